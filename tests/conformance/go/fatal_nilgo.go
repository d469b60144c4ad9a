// go of a nil func is a fatal error: recover does not catch it, no deferred call runs.
package main

import "fmt"

func main() {
	var f func()
	defer fmt.Println("deferred")
	defer func() {
		fmt.Println("recovered", recover())
	}()
	go f()
	fmt.Println("still running")
}
