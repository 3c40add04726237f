package content_test

import (
	"errors"
	"fmt"

	"github.com/fotakit/fota/examples/lwm2m/content"
)

func ExampleDecode() {
	// A client's answer to a Read of /5/0 in TLV: State 2, Update Result 0.
	base, _ := content.ParsePath("/5/0")
	recs, err := content.Decode(content.TLV, base, []byte{0xC1, 3, 2, 0xC1, 5, 0})
	for _, r := range recs {
		n, _ := r.Value.Int()
		fmt.Println(r.Path, n)
	}
	fmt.Println(err)

	// A notification about another object is refused.
	_, err = content.Decode(content.SenMLJSON, base, []byte(`[{"bn":"/3/0/","n":"0","vs":"x"}]`))
	fmt.Println(errors.Is(err, content.ErrForeignPath))
	// Output:
	// /5/0/3 2
	// /5/0/5 0
	// <nil>
	// true
}
