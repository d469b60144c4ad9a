// Main returns while another goroutine's deferred call for its panic takes long: Go's main
// gives it only 1000 yields (runningPanicDefers), then the program exits 0.
package main

import (
	"fmt"
	"time"
)

func bad() {
	defer time.Sleep(100 * time.Millisecond) // the panicking goroutine's deferred work takes a while
	panic("boom")
}

func main() {
	go bad()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("main returns")
}
