// Main returns while another goroutine runs a short deferred call for its panic: Go's main
// waits for it (runningPanicDefers), so the program ends with the panic, exit 2.
package main

import (
	"fmt"
	"runtime"
)

func bad() {
	defer runtime.Gosched() // a short deferred call that yields once
	panic("boom")
}

func main() {
	go bad()
	runtime.Gosched() // bad starts, panics, yields in its deferred call
	fmt.Println("main returns")
}
