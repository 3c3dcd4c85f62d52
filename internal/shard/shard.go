// Package shard splits a fleet into N deterministic parts by host name, so
// that N bastions (one per network zone, or N pods of an Indexed Job) each
// scan one part and `whyoffline merge` puts the reports back together.
package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/whyoffline/whyoffline/internal/inventory"
)

// Spec is shard Index (1-based) of Count.
type Spec struct {
	Index, Count int
}

// MaxCount bounds N: more shards than this is a typo.
const MaxCount = 10000

// Parse reads "K/N" (1 ≤ K ≤ N).
func Parse(s string) (Spec, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || ni < 1 || ni > MaxCount || ki < 1 || ki > ni {
		return Spec{}, fmt.Errorf("--shard %q: give K/N with 1 ≤ K ≤ N ≤ %d, e.g. 2/3", s, MaxCount)
	}
	return Spec{Index: ki, Count: ni}, nil
}

// Of is the shard (1-based) a host name falls in among n: a hash of the
// lower-cased name, so the same host lands in the same shard on every run
// and every bastion, whatever the inventory's order.
func Of(name string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(name)))
	return int(h.Sum64()%uint64(n)) + 1
}

// Select keeps the hosts of shard s, in their order.
func Select(hosts []*inventory.Host, s Spec) []*inventory.Host {
	var out []*inventory.Host
	for _, h := range hosts {
		if Of(h.Name, s.Count) == s.Index {
			out = append(out, h)
		}
	}
	return out
}

// Digest names a host selection (the whole fleet before sharding), so that
// merge can refuse shards of different fleets: the first 16 hex digits of
// the SHA-256 of the sorted, lower-cased names.
func Digest(hosts []*inventory.Host) string {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = strings.ToLower(h.Name)
	}
	sort.Strings(names)
	sum := sha256.Sum256([]byte(strings.Join(names, "\n")))
	return hex.EncodeToString(sum[:8])
}
