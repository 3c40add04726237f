// Package linkformat parses the CoRE Link Format (RFC 6690,
// https://www.rfc-editor.org/rfc/rfc6690) strictly, and reads an LwM2M
// client's object list out of it: the payload of a Register or Update
// request (OMA LwM2M 1.1 Transport §5.3.1 and Core §6.2.1,
// https://www.openmobilealliance.org/release/LightweightM2M/V1_1_1-20190617-A/).
//
// # How the pieces fit
//
//   - link.go: Parse turns a payload into Links (a target and its
//     parameters), following RFC 6690 §2's grammar; String writes one back.
//   - objects.go: ParseObjects reads a registration's object list: an
//     optional alternate root path (rt="oma.lwm2m"), then object and object
//     instance links such as </5/0> or </3>;ver=1.1.
//   - errors.go: every refusal is an *Error naming the field, the value and
//     the byte offset, matching ErrSyntax or ErrObjectList.
//
// # Strictness, and where the sources are silent
//
// The grammar is applied as written, because a registration is untrusted
// input from the network:
//
//   - no whitespace anywhere outside quoted strings (RFC 6690 has none; some
//     clients add a space after ",", and are refused);
//   - a target is a non-empty URI reference of visible ASCII without '<',
//     '>', '"', '\' or spaces; parameter names are RFC 6690 parmnames, values
//     ptokens or quoted strings (with backslash escapes), nothing else;
//   - an empty payload is an empty list (a client with no objects to
//     announce may send one), but a payload with an empty link ("<>", ",,",
//     a trailing ",") is refused;
//   - LwM2M object and instance IDs are decimal 0..65535 and 0..65534 (65535
//     is reserved, LwM2M Core §7.1), without leading zeros or signs; the
//     same object or instance may not be listed twice; at most one root
//     link; at most MaxLinks links.
//
// Unknown parameters (link-extension) are kept, not refused: LwM2M 1.1 and
// 1.2 add attributes (ver, ct, ...) and vendors add more.
package linkformat
