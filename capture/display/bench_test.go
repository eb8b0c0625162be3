package display

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse measures parser throughput (MB/s) on the golden captures
// repeated to about 1 MB, fed in 64-byte chunks as a serial read delivers
// them, and on random bytes (the worst case for the auto detector).
//
//	go test ./capture/display -run '^$' -bench Parse
func BenchmarkParse(b *testing.B) {
	for _, sc := range allScenarios() {
		data, err := os.ReadFile(filepath.Join("testdata", sc.name+".bin"))
		if err != nil {
			b.Fatal(err)
		}
		big := bytes.Repeat(data, 1<<20/len(data)+1)
		for _, prof := range []Profile{sc.profile, ProfileAuto} {
			b.Run(sc.name+"/"+prof.String(), func(b *testing.B) { benchFeed(b, prof, big) })
		}
	}
	noise := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range noise {
		noise[i] = byte(rng.UintN(256))
	}
	b.Run("random/auto", func(b *testing.B) { benchFeed(b, ProfileAuto, noise) })
}

func benchFeed(b *testing.B, prof Profile, data []byte) {
	b.SetBytes(int64(len(data)))
	n := 0
	emit := func(Event) { n++ }
	for b.Loop() {
		p, _ := NewParser(prof, 20)
		for i := 0; i < len(data); i += 64 {
			p.Feed(data[i:min(i+64, len(data))], emit)
		}
		p.Flush(emit)
	}
}
