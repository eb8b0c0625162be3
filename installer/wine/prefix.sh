# prefix.sh is sourced (POSIX sh) by every script that runs a Windows build
# under Wine 8: wine_prefix WORK makes a throw-away 64-bit prefix in
# WORK/prefix and exports WINEPREFIX, WINEARCH, WINEDEBUG, WINEDLLOVERRIDES
# and WINE64 for it. Go >= 1.24 programs need ProcessPrng, which Wine 8's
# bcryptprimitives.dll lacks: the test-only stub beside this file is built
# with mingw and goes into that prefix's system32 only, never into a
# release. Needs wine64 and x86_64-w64-mingw32-gcc. The caller sources it
# as ". installer/wine/prefix.sh" from the repository root, or sets
# wine_root to the repository first.
wine_prefix() {
	_wr=${wine_root:-.}
	WINE64=$(command -v wine64 || echo /usr/lib/wine/wine64)
	export WINE64 WINEPREFIX="$1/prefix" WINEARCH=win64 WINEDEBUG=-all
	export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d;bcryptprimitives=n"
	x86_64-w64-mingw32-gcc -O2 -shared -s -o "$1/bcryptprimitives.dll" \
		"$_wr/installer/wine/bcryptprimitives.c" "$_wr/installer/wine/bcryptprimitives.def" -lbcrypt || return 1
	timeout 300 "$WINE64" wineboot -i >"$1/wineboot.log" 2>&1
	wineserver -w
	cp "$1/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/" || return 1
}
