package stream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaveTimeout bounds the explicit LeaveGroup of a static member at
// shutdown; it comes after the drain, inside the pod's grace period (the
// chart gives 45 s, the drain takes at most 30 s).
const leaveTimeout = 5 * time.Second

// membershipOpts are the consumer group options that decide how fast a
// dead scorer's partitions are scored again: the session timeout, a
// heartbeat interval to match, and, when the scorer has a stable
// identity, static membership.
func (c Config) membershipOpts(logger *slog.Logger) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SessionTimeout(c.SessionTimeout),
		kgo.HeartbeatInterval(heartbeatInterval(c.SessionTimeout)),
	}
	switch id := c.instanceID(); {
	case id != "":
		opts = append(opts, kgo.InstanceID(id))
		logger.Info("static group member", "instance_id", id, "session_timeout", c.SessionTimeout)
	case c.ExactlyOnce:
		logger.Info("dynamic group member: the transactional id is not a valid instance id; set one to restart faster",
			"transactional_id", c.transactionalID(), "session_timeout", c.SessionTimeout)
	default:
		logger.Info("dynamic group member: a restarted scorer waits for the group to expire its predecessor",
			"session_timeout", c.SessionTimeout)
	}
	return opts
}

// heartbeatInterval is franz-go's 3 s default, or a third of a shorter
// session, as Kafka advises, so that one lost heartbeat never ends a
// session.
func heartbeatInterval(session time.Duration) time.Duration {
	return min(3*time.Second, session/3)
}

// leaveGroup makes a static member leave the group before the client
// closes. franz-go's Close leaves the group for a dynamic member only: a
// static one stays, so that a restart under the same instance id takes its
// place without a rebalance, and its partitions wait, unscored, for that
// restart or for the session to time out. A scorer that stops cleanly is
// being scaled down, rolled or moved, and may not come back: its
// partitions should move to the others at once. So it lets the client
// revoke its partitions first (at least once, onRevoked drains and
// commits, so nothing is handed over unfinished), then sends LeaveGroup
// for its instance id itself. A crash sends nothing, which is what static
// membership is for.
func (s *Scorer) leaveGroup() {
	id := s.cfg.instanceID()
	if id == "" {
		return
	}
	// The member id goes in the request too: should a newer process have
	// taken the instance id over already, the broker refuses the leave
	// (FENCED_INSTANCE_ID) instead of removing that process.
	member, _ := s.client.GroupMetadata()
	// The client's own leave: revokes every partition (drain and commit)
	// and stops heartbeating, but sends nothing for a static member.
	if err := s.client.LeaveGroupContext(context.Background()); err != nil {
		s.logger.Warn("leaving the group", "err", err)
	}
	if member == "" {
		return // never joined: nothing to leave
	}
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	err := sendLeave(ctx, s.client, s.cfg.Group, member, id)
	switch {
	case err == nil:
		s.logger.Info("left the group: its partitions move to the other scorers now", "instance_id", id)
	case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
		// Gone already: franz-go left by itself (it does after a
		// cooperative revoke it has not rejoined from), or the group
		// expired or replaced this member.
		s.logger.Debug("not a member any more", "instance_id", id, "err", err)
	default:
		s.logger.Warn("could not leave the group: its partitions wait for the session timeout",
			"instance_id", id, "session_timeout", s.cfg.SessionTimeout, "err", err)
	}
}

// sendLeave asks the group coordinator to remove one static member.
func sendLeave(ctx context.Context, cl *kgo.Client, group, member, instanceID string) error {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = group
	req.MemberID = member // versions before 3 name one member here
	m := kmsg.NewLeaveGroupRequestMember()
	m.MemberID = member
	m.InstanceID = &instanceID
	m.Reason = kmsg.StringPtr("scorer stopping")
	req.Members = append(req.Members, m)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
		for _, m := range resp.Members {
			err = cmp.Or(err, kerr.ErrorForCode(m.ErrorCode))
		}
	}
	if err != nil {
		return fmt.Errorf("leave group %q as %q: %w", group, instanceID, err)
	}
	return nil
}
