// A panic raised while handling (recovering) another: Go prints the chain, the first one
// marked [recovered], the second on a line of its own after a tab.
package main

import "fmt"

func main() {
	defer func() {
		r := recover()
		panic(fmt.Sprint("second, after recovering ", r))
	}()
	panic("first")
}
