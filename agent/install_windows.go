//go:build windows

package agent

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// copyDirSDDL: SYSTEM and Administrators only, not inherited from
// %SystemRoot%\Temp (where users may create files): nobody else can put a
// DLL beside the copy that runs as SYSTEM.
const copyDirSDDL = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

// privateDir creates a directory for the installer copy under
// %SystemRoot%\Temp, with copyDirSDDL set at creation (not after it, which
// would leave a moment in which a user could create a file there).
func privateDir() (string, error) {
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	root = filepath.Join(root, "Temp")
	b := make([]byte, 8)
	rand.Read(b)
	dir := filepath.Join(root, copyDirPrefix+hex.EncodeToString(b))
	sd, err := windows.SecurityDescriptorFromString(copyDirSDDL)
	if err != nil {
		return "", err
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return "", err
	}
	if err := windows.CreateDirectory(p, sa); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	return dir, nil
}

// startDetached starts the installer copy and does not wait for it. It
// asks to leave the task's job object (Task Scheduler may end the job's
// processes with the task), and starts without that when the job does not
// allow it.
func startDetached(exe string, args ...string) error {
	const createBreakawayFromJob = 0x01000000
	for _, flags := range []uint32{createBreakawayFromJob | windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS,
		windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS} {
		cmd := exec.Command(exe, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: flags, HideWindow: true}
		err := cmd.Start()
		if err == nil {
			return cmd.Process.Release()
		}
		if flags&createBreakawayFromJob == 0 {
			return err
		}
	}
	return nil
}
