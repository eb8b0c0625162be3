package payclient

import "context"

// Context is context.Context; the alias keeps Bank's signature short.
type Context = context.Context
