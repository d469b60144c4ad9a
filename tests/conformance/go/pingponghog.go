// The Go twin of tests/test_sysmon.py::test_runnext_pairs_share_the_p_within_a_factor_of_20,
// after TestPingPongHog in go/src/runtime/proc_test.go: two pairs of goroutines at
// GOMAXPROCS=1 hand the P to each other through runnext (inheriting one time slice); sysmon's
// retake preempts each pair when its slice is stale, so both get work done. The hog does
// 1000 times the work of the light pair per hand-off, as in Go's test (1e6 and 1e3 there);
// gosched uses 10,000 and 100, because a channel round trip costs it about what 100
// increments do. Output: whether the counts are within a factor of 20, and main's lateness.
package main

import (
	"fmt"
	"runtime"
	"time"
)

func main() {
	runtime.GOMAXPROCS(1)
	done := make(chan bool)
	hogChan, lightChan := make(chan bool), make(chan bool)
	hogCount, lightCount := 0, 0

	run := func(limit int, counter *int, wake chan bool) {
		for {
			select {
			case <-done:
				return
			case <-wake:
				for i := 0; i < limit; i++ {
					*counter++
				}
				wake <- true
			}
		}
	}
	for i := 0; i < 2; i++ {
		go run(1e6, &hogCount, hogChan)
	}
	for i := 0; i < 2; i++ {
		go run(1e3, &lightCount, lightChan)
	}
	hogChan <- true
	lightChan <- true
	t0 := time.Now()
	time.Sleep(500 * time.Millisecond)
	late := time.Since(t0) - 500*time.Millisecond
	close(done)
	ratio := float64(hogCount) / float64(lightCount)
	fmt.Println("within factor 20:", ratio <= 20 && ratio >= 1.0/20)
	fmt.Println("main late < 250ms:", late < 250*time.Millisecond)
}
