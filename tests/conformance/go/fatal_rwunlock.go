// RUnlock of an RWMutex that is not read-locked is a fatal error, as is Unlock of one that is
// not write-locked: recover does not catch it, no deferred call runs.
package main

import (
	"fmt"
	"sync"
)

func main() {
	var rw sync.RWMutex
	defer fmt.Println("deferred")
	defer func() {
		fmt.Println("recovered", recover())
	}()
	rw.RUnlock()
	fmt.Println("still running")
}
