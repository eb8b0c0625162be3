package voice

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// pcm is a decoded PCM WAV clip.
type pcm struct {
	channels uint16
	rate     uint32
	bits     uint16
	data     []byte
}

var errNotPCM = errors.New("voice: not a PCM WAV file")

// parseWAV reads a RIFF/WAVE file with a PCM (format 1) fmt chunk. Recorded
// clips from common tools carry extra chunks (LIST, fact); they are skipped.
func parseWAV(b []byte) (*pcm, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errNotPCM
	}
	var p pcm
	haveFmt := false
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := off + 8
		if size < 0 || body+size > len(b) {
			size = len(b) - body // a truncated data chunk: keep what is there
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, errNotPCM
			}
			format := binary.LittleEndian.Uint16(b[body:])
			if format != 1 && format != 0xFFFE {
				return nil, fmt.Errorf("%w (format %d)", errNotPCM, format)
			}
			p.channels = binary.LittleEndian.Uint16(b[body+2:])
			p.rate = binary.LittleEndian.Uint32(b[body+4:])
			p.bits = binary.LittleEndian.Uint16(b[body+14:])
			haveFmt = true
		case "data":
			p.data = b[body : body+size]
		}
		off = body + size + size%2 // chunks are word aligned
	}
	if !haveFmt || p.data == nil || p.channels == 0 || p.rate == 0 || (p.bits != 8 && p.bits != 16) {
		return nil, errNotPCM
	}
	return &p, nil
}

func (p *pcm) sameFormat(q *pcm) bool {
	return p.channels == q.channels && p.rate == q.rate && p.bits == q.bits
}

// encodeWAV writes the clips (all of one format) as one PCM WAV file, with
// 16-bit samples scaled by volume (0–100); 8-bit samples are left as they
// are, which only recorded clips could bring.
func encodeWAV(clips []*pcm, volume int) []byte {
	f := clips[0]
	n := 0
	for _, c := range clips {
		n += len(c.data)
	}
	out := make([]byte, 44, 44+n)
	copy(out[0:], "RIFF")
	binary.LittleEndian.PutUint32(out[4:], uint32(36+n))
	copy(out[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(out[16:], 16)
	binary.LittleEndian.PutUint16(out[20:], 1)
	binary.LittleEndian.PutUint16(out[22:], f.channels)
	binary.LittleEndian.PutUint32(out[24:], f.rate)
	block := uint32(f.channels) * uint32(f.bits) / 8
	binary.LittleEndian.PutUint32(out[28:], f.rate*block)
	binary.LittleEndian.PutUint16(out[32:], uint16(block))
	binary.LittleEndian.PutUint16(out[34:], f.bits)
	copy(out[36:], "data")
	binary.LittleEndian.PutUint32(out[40:], uint32(n))
	for _, c := range clips {
		out = append(out, c.data...)
	}
	if f.bits == 16 && volume < 100 {
		if volume < 0 {
			volume = 0
		}
		s := out[44:]
		for i := 0; i+1 < len(s); i += 2 {
			v := int32(int16(binary.LittleEndian.Uint16(s[i:])))
			binary.LittleEndian.PutUint16(s[i:], uint16(int16(v*int32(volume)/100)))
		}
	}
	return out
}

// duration is how long the clips play.
func duration(clips []*pcm) (ms int64) {
	for _, c := range clips {
		bps := int64(c.rate) * int64(c.channels) * int64(c.bits) / 8
		if bps > 0 {
			ms += int64(len(c.data)) * 1000 / bps
		}
	}
	return ms
}
