// A panic value whose Error method panics: Go's fatal error "panic while printing panic
// value", exit 2 (the text after the colon is the inner panic's string, or "type T").
package main

import "errors"

type bad struct{}

func (bad) Error() string { panic(errors.New("Error method fails")) }

func main() {
	panic(bad{})
}
