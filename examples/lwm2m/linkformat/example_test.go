package linkformat_test

import (
	"errors"
	"fmt"

	"github.com/fotakit/fota/examples/lwm2m/linkformat"
)

func ExampleParseObjects() {
	list, err := linkformat.ParseObjects([]byte(`</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>,</5/0>`))
	fmt.Println(list.Links, list.Has(5, 0), err)

	_, err = linkformat.ParseObjects([]byte(`</5/0>, </3/0>`))
	var e *linkformat.Error
	fmt.Println(errors.Is(err, linkformat.ErrSyntax), errors.As(err, &e), e.Field, e.Offset)
	// Output:
	// [/1/0 /3/0 /5/0] true <nil>
	// true true link 7
}
