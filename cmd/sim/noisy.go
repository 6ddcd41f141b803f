package main

import (
	"slices"
	"time"
)

// noisyTimes returns E's figures from its timings: the 99th percentile
// (nearest rank) of the other accounts' times from submit to final, and
// the time from the first submit until the whale's last call ended.
func noisyTimes(timings []timing, whale string) (minnowP99, whaleTime time.Duration) {
	if len(timings) == 0 {
		return 0, 0
	}
	start := timings[0].submitted
	var minnows []time.Duration
	for _, t := range timings {
		if t.account == whale {
			whaleTime = max(whaleTime, t.final.Sub(start))
			continue
		}
		minnows = append(minnows, t.final.Sub(t.submitted))
	}
	return percentile(minnows, 99), whaleTime
}

// percentile returns the p-th percentile of ds by the nearest-rank method:
// the smallest value with at least p% of the values at or below it. It is
// zero for no values.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	rank := (p*len(s) + 99) / 100 // ceil(p/100 × n), at least 1 for p > 0
	return s[max(rank, 1)-1]
}
