// Five goroutines at GOMAXPROCS=1: the last one started runs first (runnext).
// Run: GOMAXPROCS=1 go run five.go
package main

import (
	"fmt"
	"sync"
)

func main() {
	var wg sync.WaitGroup
	var order []int
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func(i int) {
			order = append(order, i)
			wg.Done()
		}(i)
	}
	wg.Wait()
	fmt.Println(order)
}
