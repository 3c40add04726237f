package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fotakit/fota"
)

// cutProxy forwards connections to PostgreSQL and, once armed, breaks the
// connection whose client sends the COMMIT, without forwarding it: the
// client has sent its commit and never hears the answer. A connection's
// first COMMIT travels as its text (a Parse message, "\x00commit\x00"),
// and each Update or device transaction here runs on a new connection,
// the last one having been broken.
type cutProxy struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	cut    atomic.Int32
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	p.wg.Go(p.serve)
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.wg.Go(func() { _, _ = io.Copy(c, s); c.Close() })
		p.wg.Go(func() {
			defer s.Close()
			defer c.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if p.armed.Load() && bytes.Contains(buf[:n], []byte("\x00commit\x00")) {
						p.cut.Add(1)
						return
					}
					if _, werr := s.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		})
	}
}

// TestCommitUnknown: a connection that breaks once COMMIT is sent leaves
// the outcome unknown: the store says so with a *CommitUnknownError and
// does not run the function again.
func TestCommitUnknown(t *testing.T) {
	pool := openPool(t)
	s := newStore(t, pool, Options{})
	cfg := poolConfig(t)
	proxy := newCutProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	addr := proxy.ln.Addr().(*net.TCPAddr)
	cfg.ConnConfig.Host = addr.IP.String()
	cfg.ConnConfig.Port = uint16(addr.Port)
	cfg.ConnConfig.Fallbacks = nil
	cut, err := OpenPool(context.Background(), openPoolWith(t, cfg), Options{Schema: s.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	proxy.armed.Store(true)
	runs := 0
	err = cut.Update(ctx, func(tx fota.Tx) error {
		runs++
		return tx.PutCampaign(fota.Campaign{ID: "c1", Account: "acme"})
	})
	var cu *CommitUnknownError
	if !errors.Is(err, ErrCommitUnknown) || !errors.As(err, &cu) || runs != 1 || proxy.cut.Load() == 0 {
		t.Fatalf("Update over a connection cut at COMMIT: %v after %d runs (%d cut); want a *CommitUnknownError after one run", err, runs, proxy.cut.Load())
	}
	if st := cut.Stats(); st.CommitUnknown != 1 {
		t.Fatalf("Stats %+v: want one unknown commit", st)
	}
	// The same for a device transaction's pipelined commit.
	runs = 0
	err = cut.UpdateDevice(ctx, "d1", func(tx fota.DeviceTx) error {
		runs++
		_, err := tx.ActiveCampaign()
		return err
	})
	if !errors.Is(err, ErrCommitUnknown) || runs != 1 {
		t.Fatalf("UpdateDevice over a connection cut at COMMIT: %v after %d runs; want ErrCommitUnknown after one run", err, runs)
	}
	// Once the network mends, the store works on the pool it has.
	proxy.armed.Store(false)
	if err := cut.Update(ctx, func(tx fota.Tx) error { return tx.PutCampaign(fota.Campaign{ID: "c2", Account: "acme"}) }); err != nil {
		t.Fatalf("after the cut: %v", err)
	}
}
