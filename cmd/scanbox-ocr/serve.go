package main

import (
	"os"
	"time"

	"github.com/otiai10/gosseract/v2"

	"github.com/scanbox/scanbox/capture/ocr/ocrpipe"
	"github.com/scanbox/scanbox/capture/ocr/ocrproto"
)

// serveShared is `scanbox-ocr --serve NAME [--idle D]`: the shared helper
// (capture/ocr/ocrpipe), started detached by the first one-shot call of a
// user and reached by the later ones over the endpoint NAME. The engines
// are the stdin helper's, loaded once, one worker each, shared by every
// connection; each connection speaks the stdin protocol. It exits after D
// without a client, or after recycleReads reads once its clients are done.
func serveShared(name string, idle time.Duration, tessdata string) int {
	return ocrpipe.ServeMain(name, idle, os.Stdout, func() (*ocrpipe.Server, error) {
		dir := findTessdata(tessdata)
		chi := newChinese(dir)
		cli, err := start(dir)
		if err != nil {
			return nil, err
		}
		whitelisted := true // as start left it
		return &ocrpipe.Server{
			Version: cli.Version(),
			Route:   route,
			Engines: []ocrpipe.Engine{
				englishEngine: func(f ocrproto.Frame) (string, error) {
					return readEnglish(cli, f, gosseract.PageSegMode(f.Arg&ocrproto.PSMMask), &whitelisted)
				},
				chineseEngine: func(f ocrproto.Frame) (string, error) {
					return readChinese(chi, f, gosseract.PageSegMode(f.Arg&ocrproto.PSMMask))
				},
			},
			MaxReads: recycleReads,
		}, nil
	})
}

// recycleReads bounds a shared helper's life in reads, as the client bounds
// a private one's (capture/ocr recycleAfter): gosseract leaks each result.
const recycleReads = 5000
