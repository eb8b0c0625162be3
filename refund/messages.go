package refund

// messageFor is the cashier's sentence for a refund's state.
func messageFor(s State, code string) string {
	switch s {
	case StateRefunded:
		return "The money has been refunded to the payer."
	case StateProcessing:
		return "The bank accepted the refund and is paying it back; ScanBox follows it until it is done."
	case StateUnknown:
		return "The bank's answer about this refund could not be had; ScanBox keeps asking, do not refund it again."
	case StateChange:
		return "The payer's account could not take the money back; the bank's staff must settle this refund by hand."
	case StateFailed:
		switch code {
		case "NOTENOUGH":
			return "The refund failed: the merchant's refundable balance is too low today; try again later."
		case "REFUND_FEE_INVALID":
			return "The refund failed: the bank says the amount is more than what is left of the order."
		case "TRADE_STATE_ERROR":
			return "The refund failed: the bank says the order is not paid."
		case "ORDERNOTEXIST":
			return "The refund failed: the bank does not know this order."
		case "REFUND_LIMIT":
			return "The refund failed: the order already has 20 refunds."
		case "REFUND_EXPIRE":
			return "The refund failed: the order is more than 365 days old."
		case "DEVICE_MISMATCH":
			return "The refund failed: this terminal is bound to another PC; the bank must move it."
		case "TERMINAL_DISABLED":
			return "The refund failed: the bank has disabled this terminal."
		case "", "FAILED":
			return "The refund failed; no money left the merchant."
		}
		return "The refund failed (" + code + "); no money left the merchant."
	}
	return ""
}
