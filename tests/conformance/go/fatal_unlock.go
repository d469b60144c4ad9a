// Unlocking an unlocked mutex is a fatal error: recover does not catch it, no deferred call
// runs, and the program ends with exit status 2 after the goroutine dump.
package main

import (
	"fmt"
	"sync"
)

func main() {
	var mu sync.Mutex
	defer fmt.Println("deferred")
	defer func() {
		fmt.Println("recovered", recover())
	}()
	mu.Unlock()
	fmt.Println("still running")
}
