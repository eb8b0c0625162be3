/*
 * Test-only stand-in for Windows' bcryptprimitives.dll, for Wine 8, which
 * lacks it. Go 1.24+ programs get their randomness from ProcessPrng in that
 * DLL and abort at start-up when it is missing. This stub forwards to
 * BCryptGenRandom, which Wine does implement.
 *
 * It is copied into the smoke test's throw-away WINEPREFIX only (system32).
 * Never ship it: real Windows 10/11 has the genuine DLL.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* BCryptGenRandom takes a ULONG length, so feed it in chunks. */
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += n;
        len -= n;
    }
    /* Like the real ProcessPrng, report success (the real one never fails). */
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
