// Package content reads and writes the LwM2M content formats a firmware
// update needs: plain text, TLV, SenML JSON, SenML CBOR and the LwM2M 1.0
// JSON format (OMA LwM2M 1.1 Transport §7.4,
// https://www.openmobilealliance.org/release/LightweightM2M/V1_1_1-20190617-A/;
// SenML is RFC 8428, https://www.rfc-editor.org/rfc/rfc8428).
//
// # How the pieces fit
//
//   - path.go: Path is an LwM2M path (/5, /5/0, /5/0/3, /5/0/8/1); records
//     outside the path a request named are refused (ErrForeignPath), which is
//     how a notification about another object is kept out.
//   - value.go: Value is one resource value as the format carried it (TLV
//     bytes, text, a number, a string, a boolean, opaque bytes); Int reads it
//     as an LwM2M Integer.
//   - decode.go: Decode turns a body of a given Format into Records.
//   - encode.go: Encode writes Records in a Format (the simulated clients
//     answer Reads with it).
//
// # Choices
//
//   - Formats are taken by their Content-Format number. 1541 to 1544 are the
//     numbers LwM2M 1.0 drafts used for text, TLV, JSON and opaque; some
//     deployed clients still send them (lwm2m-node-lib registers 1541), so
//     they decode as 0, 11542, 11543 and 42. A body with no
//     Content-Format option is plain text: lwm2m-node-lib 1.4.0 answers reads
//     and notifications of single resources that way.
//   - TLV carries no types: a TLV value is kept as bytes and Int reads the
//     1, 2, 4 or 8 byte big-endian integer the TS prescribes; any other length
//     is malformed.
//   - SenML records must each carry exactly one value (v, vs, vb, vd or vlo)
//     and a resolved name that is an LwM2M path; time, unit and sum fields are
//     ignored (a Read answers the current value). Base values (bv) and base
//     sums are refused, since LwM2M does not use them.
//   - Every decoder is bounded: at most MaxRecords records, nesting as LwM2M
//     allows it (object, instance, resource, resource instance), and a
//     caller-side size limit before Decode is the server's job.
package content
