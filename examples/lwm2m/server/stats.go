package server

import "sync/atomic"

// Stats counts what the server did since it started.
type Stats struct {
	MessagesIn      int64 // CoAP messages received, of every kind
	Requests        int64 // requests sent to devices
	Answered        int64 // of those, answered
	NoAnswer        int64 // of those, timed out or failed to send
	Registrations   int64 // Registers accepted
	Updates         int64 // Updates accepted
	Deregistrations int64 // De-registers accepted
	Expirations     int64 // registrations whose lifetime ran out
	Refused         int64 // registration requests refused
	Notifications   int64 // notifications and observe answers received on an active observation
	Refusals        int64 // of those, refused (malformed, oversize, another object or address)
	Stale           int64 // of those, dropped as stale (an older registration or a cancelled observation)
	Reordered       int64 // of those, dropped as older than one already seen (RFC 7641 §3.4)
	Held            int64 // pairs held back as no state of the machine
	Delivered       int64 // observations handed to OnObservation
	Resets          int64 // notifications rejected with Reset (unknown token)
	Reads           int64 // Read operations
	ReadFallbacks   int64 // Reads answered resource by resource
	Downloads       int64 // firmware downloads started (block 0)
}

// Add returns the sums of s's and o's counters: the figures of several
// servers (replicas) together.
func (s Stats) Add(o Stats) Stats {
	s.MessagesIn += o.MessagesIn
	s.Requests += o.Requests
	s.Answered += o.Answered
	s.NoAnswer += o.NoAnswer
	s.Registrations += o.Registrations
	s.Updates += o.Updates
	s.Deregistrations += o.Deregistrations
	s.Expirations += o.Expirations
	s.Refused += o.Refused
	s.Notifications += o.Notifications
	s.Refusals += o.Refusals
	s.Stale += o.Stale
	s.Reordered += o.Reordered
	s.Held += o.Held
	s.Delivered += o.Delivered
	s.Resets += o.Resets
	s.Reads += o.Reads
	s.ReadFallbacks += o.ReadFallbacks
	s.Downloads += o.Downloads
	return s
}

type stats struct {
	messagesIn, requests, answered, noAnswer                 atomic.Int64
	registrations, updates, deregistrations, expirations     atomic.Int64
	refused, notifications, refusals, stale, reordered, held atomic.Int64
	delivered, notificationsReset, reads, readFallbacks      atomic.Int64
	downloads                                                atomic.Int64
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	t := &s.stats
	return Stats{
		MessagesIn: t.messagesIn.Load(), Requests: t.requests.Load(), Answered: t.answered.Load(), NoAnswer: t.noAnswer.Load(),
		Registrations: t.registrations.Load(), Updates: t.updates.Load(), Deregistrations: t.deregistrations.Load(), Expirations: t.expirations.Load(),
		Refused: t.refused.Load(), Notifications: t.notifications.Load(), Refusals: t.refusals.Load(), Stale: t.stale.Load(),
		Reordered: t.reordered.Load(), Held: t.held.Load(), Delivered: t.delivered.Load(), Resets: t.notificationsReset.Load(),
		Reads: t.reads.Load(), ReadFallbacks: t.readFallbacks.Load(), Downloads: t.downloads.Load(),
	}
}
