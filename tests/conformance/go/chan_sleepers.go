// Three goroutines sleep 30, 10 and 20 ms at GOMAXPROCS=1 and wake in deadline order.
// Run: GOMAXPROCS=1 go run chan_sleepers.go
package main

import (
	"fmt"
	"sync"
	"time"
)

func main() {
	var out []string
	var wg sync.WaitGroup
	for _, ms := range []int{30, 10, 20} {
		wg.Add(1)
		go func(ms int) {
			time.Sleep(time.Duration(ms) * time.Millisecond)
			out = append(out, fmt.Sprint("woke ", ms))
			wg.Done()
		}(ms)
	}
	wg.Wait()
	for _, s := range out {
		fmt.Println(s)
	}
}
