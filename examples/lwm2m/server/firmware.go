package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"
	"github.com/plgd-dev/go-coap/v3/net/responsewriter"
	udpClient "github.com/plgd-dev/go-coap/v3/udp/client"
)

const firmwarePrefix = "/fw/"

// MaxImage bounds a firmware image this server serves (16 MiB): an
// example's images are small, and a block-wise transfer holds the image in
// memory.
const MaxImage = 16 << 20

// Firmware is an image this server serves by CoAP block-wise transfer
// (RFC 7959 Block2) at URI, the package URI to write to /5/0/1.
type Firmware struct {
	Name   string
	URI    string
	Size   int
	SHA256 [32]byte
	image  []byte
}

// Hash is the image's SHA-256 in hex.
func (f Firmware) Hash() string { return hex.EncodeToString(f.SHA256[:]) }

// AddFirmware serves image under name. A name is 1..64 bytes of letters,
// digits, '.', '_' and '-'; a name already served or an image that is
// empty or larger than MaxImage is an *ArgError matching ErrBadRequest.
// Images are immutable: a new version takes a new name.
func (s *Server) AddFirmware(name string, image []byte) (Firmware, error) {
	if name == "" || len(name) > 64 || !isName(name) {
		return Firmware{}, badRequest("name", name, "1..64 letters, digits, '.', '_' or '-'")
	}
	if len(image) == 0 || len(image) > MaxImage {
		return Firmware{}, badRequest("image", strconv.Itoa(len(image))+" bytes", "an image is 1.."+strconv.Itoa(MaxImage)+" bytes")
	}
	f := &Firmware{
		Name:   name,
		URI:    "coap://" + s.addr.String() + firmwarePrefix + name,
		Size:   len(image),
		SHA256: sha256.Sum256(image),
		image:  bytes.Clone(image),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.firmware[name]; ok {
		return Firmware{}, badRequest("name", name, "already served; images are immutable")
	}
	s.firmware[name] = f
	return *f, nil
}

// Firmware returns the image served under name.
func (s *Server) Firmware(name string) (Firmware, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.firmware[name]
	if !ok {
		return Firmware{}, false
	}
	return *f, true
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// serveFirmware answers a GET of an image. go-coap's block-wise layer cuts
// the answer into Block2 blocks of Config.BlockSize and serves the later
// blocks from its cache; the ETag (the hash's first 8 bytes) and Size2 let
// a client check it is still the same image.
func (s *Server) serveFirmware(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message, name string) {
	s.mu.Lock()
	f := s.firmware[name]
	s.mu.Unlock()
	if f == nil {
		s.answer(w, codes.NotFound)
		return
	}
	if num, err := block2(r); err != nil || num == 0 {
		s.stats.downloads.Add(1)
	}
	opts := []message.Option{{ID: message.ETag, Value: f.SHA256[:8]}}
	if err := w.SetResponse(codes.Content, message.AppOctets, bytes.NewReader(f.image), opts...); err != nil {
		s.report(err)
		return
	}
	w.Message().SetOptionUint32(message.Size2, uint32(f.Size))
}

// block2 reads the Block2 option's block number (RFC 7959 §2.2).
func block2(r *pool.Message) (uint32, error) {
	v, err := r.Options().GetUint32(message.Block2)
	return v >> 4, err
}
