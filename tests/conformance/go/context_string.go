// String forms of contexts (Go's String methods through contextName and stringify). A
// deadline prints a wall time, a monotonic reading and the time left, which change from run
// to run: mask replaces every run of digits with N, and the zone with ZONE and the signs of
// the reading with ±, so that only the shape is compared.
// Run: GOMAXPROCS=1 go run context_string.go
package main

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

type key1 struct{}
type key2 int

type name string

func (n name) String() string { return "name:" + string(n) }

type plain struct{ x int }

// myCtx is a context of another type that is not a Stringer: named by its type.
type myCtx struct{ context.Context }

// namedCtx is one that is: named by its String method.
type namedCtx struct{ context.Context }

func (namedCtx) String() string { return "namedCtx" }

var digits = regexp.MustCompile(`[0-9]+`)
var zone = regexp.MustCompile(` [+-]N [^ ]+ m=[+-]`)

func mask(s string) string {
	return zone.ReplaceAllString(digits.ReplaceAllString(s, "N"), " ±N ZONE m=±")
}

func main() {
	bg := context.Background()
	fmt.Println(bg)
	fmt.Println(context.TODO())
	c1, cancel1 := context.WithCancel(bg)
	fmt.Println(c1)
	c2, cancel2 := context.WithCancelCause(context.TODO())
	fmt.Println(c2)
	fmt.Println(context.WithValue(c1, key1{}, "v1"))
	fmt.Println(context.WithValue(bg, key2(7), name("n")))
	fmt.Println(context.WithValue(bg, key1{}, 42))
	fmt.Println(context.WithValue(bg, 1, true))
	fmt.Println(context.WithValue(bg, key2(8), plain{1}))
	fmt.Println(context.WithValue(bg, key2(9), nil))
	fmt.Println(context.WithoutCancel(context.WithValue(c1, key1{}, "v1")))
	c3, cancel3 := context.WithCancel(myCtx{c1})
	fmt.Println(c3)
	fmt.Println(context.WithValue(namedCtx{c1}, key1{}, "v2"))
	past, cancelPast := context.WithDeadline(c1, time.Now().Add(-time.Hour))
	fmt.Println(mask(past.(fmt.Stringer).String()))
	future, cancelFuture := context.WithTimeout(bg, time.Hour)
	fmt.Println(mask(future.(fmt.Stringer).String()))
	later, cancelLater := context.WithTimeout(future, 2*time.Hour) // the parent's deadline is sooner
	fmt.Println(mask(later.(fmt.Stringer).String()))
	cancel1()
	fmt.Println(c1, c3) // cancelled: the same
	cancelLater()
	cancelFuture()
	cancelPast()
	cancel3()
	cancel2(nil)
}
