package main

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/google/uuid"
)

// weighted samples an index with probability proportional to its weight, by
// binary search of the cumulative weights.
type weighted struct {
	cum []float64
}

func newWeighted(weights []float64) weighted {
	cum := make([]float64, len(weights))
	sum := 0.0
	for i, w := range weights {
		sum += w
		cum[i] = sum
	}
	return weighted{cum: cum}
}

// zipf returns a sampler over n ranks where rank r (0-based) has weight
// 1/(r+1)^s.
func zipf(n int, s float64) weighted {
	w := make([]float64, n)
	for r := range w {
		w[r] = math.Pow(float64(r+1), -s)
	}
	return newWeighted(w)
}

func (w weighted) total() float64 {
	if len(w.cum) == 0 {
		return 0
	}
	return w.cum[len(w.cum)-1]
}

// sample draws an index; never one of weight zero. The sampler must have a
// positive total.
func (w weighted) sample(r *rand.Rand) int {
	x := r.Float64() * w.total()
	// The first cumulative weight above x: its own weight is positive.
	i := sort.Search(len(w.cum), func(i int) bool { return w.cum[i] > x })
	if i == len(w.cum) { // rounding at the very top
		i = len(w.cum) - 1
		for i > 0 && w.cum[i] == w.cum[i-1] {
			i--
		}
	}
	return i
}

// uuidV7 builds a version 7 UUID whose timestamp is ms (Unix milliseconds) and
// whose other bits come from r, so IDs drawn for increasing times sort in time
// order.
func uuidV7(ms int64, r *rand.Rand) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], r.Uint64())
	a := r.Uint32()
	u[0] = byte(ms >> 40)
	u[1] = byte(ms >> 32)
	u[2] = byte(ms >> 24)
	u[3] = byte(ms >> 16)
	u[4] = byte(ms >> 8)
	u[5] = byte(ms)
	u[6] = 0x70 | byte(a>>8)&0x0f
	u[7] = byte(a)
	u[8] = u[8]&0x3f | 0x80
	return u
}

// uuidV7Floor is the smallest version 7 UUID of millisecond ms: every UUIDv7
// drawn at ms or later sorts at or above it.
func uuidV7Floor(ms int64) uuid.UUID {
	var u uuid.UUID
	u[0] = byte(ms >> 40)
	u[1] = byte(ms >> 32)
	u[2] = byte(ms >> 24)
	u[3] = byte(ms >> 16)
	u[4] = byte(ms >> 8)
	u[5] = byte(ms)
	u[6] = 0x70
	u[8] = 0x80
	return u
}

// uuidTime is the timestamp of a UUIDv7.
func uuidTime(u uuid.UUID) time.Time {
	ms := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
	return time.UnixMilli(ms).UTC()
}

// vocabulary returns n distinct lowercase pronounceable words, the same for the
// same seed and n. Words are drawn from syllables of the given consonants so
// two vocabularies built from disjoint consonant sets never share a word.
func vocabulary(seed uint64, n int, consonants string) []string {
	r := rand.New(rand.NewPCG(seed, 0x766f6361)) // "voca"
	const vowels = "aeiou"
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	buf := make([]byte, 0, 16)
	for len(out) < n {
		// Frequent ranks get short words, as in natural languages.
		syll := 2 + r.IntN(2)
		if len(out) > 1000 {
			syll = 3 + r.IntN(2)
		}
		buf = buf[:0]
		for range syll {
			buf = append(buf, consonants[r.IntN(len(consonants))], vowels[r.IntN(len(vowels))])
		}
		w := string(buf)
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// weightOf is index i's weight.
func (w weighted) weightOf(i int) float64 {
	if i == 0 {
		return w.cum[0]
	}
	return w.cum[i] - w.cum[i-1]
}
