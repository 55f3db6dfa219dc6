package auth

import "golang.org/x/crypto/argon2"

// KDFCall is one Argon2id computation a hasher ran.
type KDFCall struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
	KeyLen    uint32
}

// RecordKDF makes h report each Argon2id computation it runs to record, and
// still run it. Call it before h is used concurrently.
func RecordKDF(h *Argon2Hasher, record func(KDFCall)) {
	h.idKey = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		record(KDFCall{Time: time, MemoryKiB: memory, Threads: threads, KeyLen: keyLen})
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
}
