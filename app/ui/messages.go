package ui

import (
	"github.com/scanbox/scanbox/msg"
	"github.com/scanbox/scanbox/order"
)

// ErrNotActivated is what the controller returns for a payment before the
// terminal is activated (the catalog's sentinel, so the CLI says the same).
var ErrNotActivated = msg.ErrNotActivated

// lang is the catalog language of the UI language in use.
func lang() msg.Lang {
	if CurrentLanguage() == English {
		return msg.EN
	}
	return msg.ZH
}

// orderMessage is the one sentence about o in the current language, from
// the one message catalog (package msg); "" for a paid order (the big
// status line says it).
func orderMessage(o order.Order) string {
	if o.State == order.StatePaid {
		return ""
	}
	return msg.Order(lang(), o)
}

// errorMessage is one sentence about err in the current language, without
// Go package prefixes.
func errorMessage(err error) string {
	return oneSentence(msg.Text(lang(), err))
}
