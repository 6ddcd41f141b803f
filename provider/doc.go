// Package provider is a fake external API for perkey's demo and tests: an
// HTTP server that counts, per account, the calls that overlap.
//
// The provider allows parallel calls across accounts, but a call for an
// account that already has a call in flight is a collision: in real life a
// 429, a throttled account or a half-applied write. The Server counts every
// call and every collision exactly, under any concurrency, and a Client
// calls it with context support and typed errors.
//
// The HTTP interface, which any other implementation may speak too:
//
//	POST /call/{account}/{op}?hold=DURATION
//	    Holds the account for DURATION (a Go duration such as 400ms; the
//	    server's default hold when absent), then answers
//	    {"outcome":"ok"} or {"outcome":"collision"}. A bad hold is a 400.
//	GET /report
//	    {"calls":N,"collisions":N,"accounts":{"acme":{"calls":N,"collisions":N}}}
//	    counted since the last reset.
//	POST /reset?label=TEXT
//	    Zeroes the counts and logs "--- reset @ HH:MM:SS TEXT ---"; 204.
//
// The server logs one line per call, in arrival order:
//
//	[ok       ] acme     fetch_profile
//	[COLLISION] acme     list_invoices
package provider
