// Go's side of benchmarks/preempt_slice.py: two goroutines spin the same loop on one P until a
// shared deadline 1 s away, looking at the clock every 1,000 iterations and marking a shared
// baton, and report their time slices (the runs between two switches) as the Python
// benchmark measures them. Go preempts a goroutine that sysmon has seen on the same schedtick
// for forcePreemptNS (10 ms); sysmon's own sleep has grown to 10 ms by then, so slices run 10
// to 20 ms. Run: go run preempt_slice.go (preempt_slice.out holds one run, Go 1.22.10, the
// machine of the README's figures).
package main

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

var baton atomic.Int32

func spin(id int32, deadline time.Time, out *[]time.Duration, wg *sync.WaitGroup) {
	defer wg.Done()
	start := time.Now()
	last := start
	baton.Store(id)
	for {
		for i := 0; i < 1000; i++ {
		}
		now := time.Now()
		if baton.Load() != id { // the other goroutine ran since our last look
			*out = append(*out, last.Sub(start))
			baton.Store(id)
			now = time.Now()
			start = now
		}
		last = now
		if !last.Before(deadline) {
			break
		}
	}
	*out = append(*out, last.Sub(start))
}

func main() {
	runtime.GOMAXPROCS(1)
	for r := 0; r < 5; r++ {
		var a, b []time.Duration
		var wg sync.WaitGroup
		wg.Add(2)
		deadline := time.Now().Add(time.Second)
		go spin(1, deadline, &a, &wg)
		runtime.Gosched()
		go spin(2, deadline, &b, &wg)
		wg.Wait()
		s := append(a, b...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		p99 := s[(len(s)*99+99)/100-1] // nearest rank, as benchmarks/latency.py
		fmt.Printf("slices %d  median %.2f ms  p99 %.2f ms\n",
			len(s), float64(s[len(s)/2])/1e6, float64(p99)/1e6)
	}
}
