// Goexit is not lost: a deferred call that panics during Goexit, and a recover that catches
// that panic, do not stop the goroutine from exiting; its remaining deferred calls run.
package main

import (
	"fmt"
	"runtime"
)

func g(done chan string) {
	defer func() { done <- "g's last deferred call ran" }()
	func() {
		defer func() {
			fmt.Println("recovered:", recover())
		}()
		func() {
			defer func() {
				panic("from deferred call")
			}()
			runtime.Goexit()
		}()
	}()
	runtime.Gosched() // the goroutine ends here at the latest in gosched (see the twin)
	fmt.Println("went on after Goexit")
}

func main() {
	done := make(chan string)
	go g(done)
	fmt.Println(<-done)
}
