package payflow

import "github.com/scanbox/scanbox/order"

// messageFor is the one sentence the cashier reads about an order. The UI
// translates by state and err_code; these English sentences are the CLI's.
func messageFor(s order.State, code string) string {
	if s == order.StateClosed && code == CodeNotReceived {
		return "The bank never received this payment (the connection was down); the order is closed and no money was taken. Charge again."
	}
	if m, ok := codeMessages[code]; ok && s != order.StatePaid {
		return m
	}
	switch s {
	case order.StatePaid:
		return "Payment received."
	case order.StateFailed:
		return "The payment failed; ask the customer for another payment code."
	case order.StateClosed:
		return "The order was closed; no money was taken."
	case order.StateRevoked:
		return "The payment was reversed; the money went back to the customer."
	case order.StateUnknown:
		return "The bank could not be reached to finish this order; it stays open until ScanBox checks it again (the tray app does so by itself, or run scanbox resolve)."
	}
	return ""
}

var codeMessages = map[string]string{
	"NOTENOUGH":              "The customer's balance is not enough; ask for another payment method.",
	"AUTHCODEEXPIRE":         "The payment code has expired; ask the customer to refresh it.",
	"AUTH_CODE_INVALID":      "This is not a valid payment code; ask the customer to show it again.",
	"NOTSUPORTCARD":          "The customer's card is not supported; ask for another payment method.",
	"PAYER_ACCOUNT_ABNORMAL": "The customer's account cannot pay; ask for another payment method.",
	"BUYER_MISMATCH":         "The payer does not match this order; ask for another payment code.",
	"ORDERCLOSED":            "This order was already closed; start a new payment.",
	"ORDERREVERSED":          "This order was already reversed; start a new payment.",
	"OUT_TRADE_NO_USED":      "The order number was already used with other details; start a new payment.",
	"PARAM_ERROR":            "The bank refused the request; check the amount and try again.",
	"AMOUNT_LIMIT":           "The amount is over the customer's limit; ask for another payment method.",
	"INVALID_REQUEST":        "ScanBox refused to send this request because it breaks the bank's rules; nothing was charged.",
	"TIMESTAMP_SKEW":         "The bank refused the request because this PC's clock is wrong; set the Windows time correctly, then the order is checked again.",
	"SIGNERROR":              "The bank did not accept ScanBox's signature; ask the bank to activate this terminal again.",
	"TERMINAL_NOT_ACTIVATED": "The bank does not know this terminal; ask the bank to activate it.",
	"TERMINAL_DISABLED":      "The bank has disabled this terminal; call the bank.",
	"DEVICE_MISMATCH":        "This terminal is bound to another PC; the bank must move it to this one. Nothing was charged.",
	"COMM":                   "The bank could not be reached to finish this order; it stays open until ScanBox checks it again (the tray app does so by itself, or run scanbox resolve).",
	"PAYERROR":               "The customer's payment failed; ask for another payment code.",
}
