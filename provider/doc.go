// Package provider is a fake external API for perkey's demo and tests: an
// HTTP server that counts, per account, the calls that overlap.
//
// The provider allows parallel calls across accounts, but a call for an
// account that already has a call in flight is a collision: in real life a
// 429, a throttled account or a half-applied write. The Server counts every
// call and every collision exactly, under any concurrency, and a Client
// calls it with context support and typed errors. The Client follows no
// redirects, and cleans what the provider says before it reaches an error
// (see Client).
//
// The HTTP interface, which any other implementation may speak too:
//
//	POST /call/{account}/{op}?hold=D&slots=N&min_gap=D&fault=F
//	    Holds the account for hold (the server's default hold when
//	    absent), then answers
//	    {"outcome":"ok"}, {"outcome":"collision"} or
//	    {"outcome":"rate_violation"}. Every parameter is optional:
//	      slots=N      the call allows N calls of its account in flight,
//	                   itself included; it collides only if N were
//	                   already in flight (default 1).
//	      min_gap=D    the call is a rate violation if it starts less
//	                   than D after the previous call for its account
//	                   (since the last reset) started (default: no check).
//	      fault=F      inject a fault instead of serving the call:
//	                   500 (answer 500), slow (never answer; wait for the
//	                   client to give up) or close (close the connection
//	                   without an answer). A faulty call is counted in
//	                   faults only: it holds no account and never collides.
//	    A duration D is a Go duration (400ms) or a bare decimal number of
//	    seconds (0.4), the form the reference's provider takes for hold;
//	    the Client sends seconds, which both accept. A bad value of a
//	    parameter is a 400 that names it; unknown parameters are ignored.
//	GET /report
//	    {"calls":N,"collisions":N,"rate_violations":N,"faults":N,
//	     "accounts":{"acme":{"calls":N,"collisions":N,"rate_violations":N}}}
//	    counted since the last reset.
//	POST /reset?label=TEXT
//	    Zeroes the counts, forgets the start times that min_gap compares
//	    with, and logs "--- reset @ HH:MM:SS TEXT ---"; 204.
//
// The server logs one line per call, in arrival order:
//
//	[ok       ] acme     fetch_profile
//	[COLLISION] acme     list_invoices
//	[TOO SOON ] acme     refresh_usage
//	[FAULT    ] acme     update_metadata (slow)
package provider
