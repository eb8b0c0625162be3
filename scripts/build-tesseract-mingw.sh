#!/usr/bin/env bash
# build-tesseract-mingw.sh — build Leptonica and Tesseract as STATIC Windows
# (x86_64-w64-mingw32) libraries from Debian bookworm's own source packages,
# for linking into scanbox-ocr.exe (scripts/build-ocr-windows.sh).
#
# Usage: scripts/build-tesseract-mingw.sh            # prints the install prefix
#   env SCANBOX_TESS_CACHE  cache root (default $HOME/.cache/scanbox/tess-mingw)
#   env JOBS                make parallelism (default 2)
#
# The result is cached under $SCANBOX_TESS_CACHE/<key>/ (key = versions + recipe
# revision), so CI and later runs reuse it; delete that folder to rebuild.
#
# Hazards this recipe avoids on purpose:
#   - -march=native: Tesseract's cmake adds it when the compiler accepts it,
#     which would put the build machine's instructions into code that runs on
#     older shop CPUs. COMPILER_SUPPORTS_MARCH_NATIVE=OFF pre-seeds that check.
#     (Tesseract's AVX/FMA/SSE kernels are still built, but chosen at run time.)
#   - OpenMP: one thread per read is what we want (OMP_THREAD_LIMIT=1 anyway),
#     and it would drag libgomp DLLs along.
#   - sw, pkg-config, zlib, png, jpeg, tiff, webp, openjpeg, gif, curl, archive:
#     all disabled, so the .exe needs no DLL beyond Windows' own. Leptonica
#     then reads only BMP/PNM among common formats: the OCR client sends BMP.
set -euo pipefail

TESS_VER=5.3.0
LEPT_VER=1.82.0
RECIPE=2 # bump when the flags below change
ROOT=${SCANBOX_TESS_CACHE:-$HOME/.cache/scanbox/tess-mingw}
KEY="tesseract-${TESS_VER}_leptonica-${LEPT_VER}_r${RECIPE}"
PREFIX="$ROOT/$KEY"
JOBS=${JOBS:-2}
HOST=x86_64-w64-mingw32
# The -posix compilers: Tesseract 5.3 uses std::mutex, which the default
# win32-thread-model libstdc++ of Debian's mingw-w64 lacks.
CC_W=${HOST}-gcc-posix
CXX_W=${HOST}-g++-posix

if [[ -f "$PREFIX/.done" ]]; then
	echo "$PREFIX"
	exit 0
fi

for tool in cmake $CC_W $CXX_W dpkg-source; do
	command -v "$tool" >/dev/null || {
		echo "build-tesseract-mingw: $tool is missing (apt-get install -y cmake gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 dpkg-dev)" >&2
		exit 2
	}
done

SRC="$ROOT/src"
BUILD="$ROOT/build-$KEY"
mkdir -p "$SRC" "$BUILD"

# Debian's source packages (needs a deb-src line for bookworm in apt sources).
cd "$SRC"
if [[ ! -d "leptonlib-$LEPT_VER" ]]; then
	apt-get source -q "leptonlib=${LEPT_VER}-3" >&2
fi
if [[ ! -d "tesseract-$TESS_VER" ]]; then
	apt-get source -q "tesseract=${TESS_VER}-2" >&2
fi

cat >"$BUILD/toolchain.cmake" <<TC
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER ${CC_W})
set(CMAKE_CXX_COMPILER ${CXX_W})
set(CMAKE_RC_COMPILER ${HOST}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${HOST} ${PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
TC

COMMON=(
	-DCMAKE_TOOLCHAIN_FILE="$BUILD/toolchain.cmake"
	-DCMAKE_BUILD_TYPE=Release
	-DCMAKE_INSTALL_PREFIX="$PREFIX"
	-DBUILD_SHARED_LIBS=OFF
	-DSW_BUILD=OFF
	-DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON
	-DCMAKE_DISABLE_FIND_PACKAGE_ZLIB=ON
	-DCMAKE_DISABLE_FIND_PACKAGE_PNG=ON
	-DCMAKE_DISABLE_FIND_PACKAGE_JPEG=ON
	-DCMAKE_DISABLE_FIND_PACKAGE_TIFF=ON
	-DCMAKE_DISABLE_FIND_PACKAGE_GIF=ON
)

echo "build-tesseract-mingw: leptonica $LEPT_VER" >&2
cmake -S "$SRC/leptonlib-$LEPT_VER" -B "$BUILD/leptonica" "${COMMON[@]}" \
	-DBUILD_PROG=OFF >&2
nice make -C "$BUILD/leptonica" -j"$JOBS" >&2
make -C "$BUILD/leptonica" install >&2

echo "build-tesseract-mingw: tesseract $TESS_VER" >&2
LEPT_CMAKE_DIR=$(dirname "$(find "$PREFIX" -name 'LeptonicaConfig.cmake' | head -1)")
cmake -S "$SRC/tesseract-$TESS_VER" -B "$BUILD/tesseract" "${COMMON[@]}" \
	-DLeptonica_DIR="$LEPT_CMAKE_DIR" \
	-DOPENMP_BUILD=OFF \
	-DCOMPILER_SUPPORTS_MARCH_NATIVE=OFF \
	-DGRAPHICS_DISABLED=ON \
	-DBUILD_TRAINING_TOOLS=OFF \
	-DBUILD_TESTS=OFF \
	-DDISABLE_ARCHIVE=ON \
	-DDISABLE_CURL=ON \
	-DENABLE_OPENCL=OFF \
	-DINSTALL_CONFIGS=OFF >&2
if grep -q -- '-march=native' "$BUILD/tesseract/CMakeCache.txt" ||
	grep -rq -- '-march=native' "$BUILD/tesseract/CMakeFiles" --include=flags.make; then
	echo "build-tesseract-mingw: -march=native crept into the build flags; refusing" >&2
	exit 1
fi
nice make -C "$BUILD/tesseract" -j"$JOBS" libtesseract >&2
# Install only the library and headers by hand: `cmake --install` also wants
# the tesseract.exe CLI, which is not built.
mkdir -p "$PREFIX/lib" "$PREFIX/include/tesseract"
cp "$BUILD"/tesseract/libtesseract*.a "$PREFIX/lib/"
cp "$SRC/tesseract-$TESS_VER"/include/tesseract/*.h "$BUILD/tesseract/include/tesseract/version.h" \
	"$PREFIX/include/tesseract/"
test -n "$(find "$PREFIX/lib" -name 'libtesseract*.a' | head -1)" || {
	echo "build-tesseract-mingw: libtesseract*.a was not produced" >&2
	exit 1
}

# gosseract links -lleptonica -ltesseract: give the versioned archives those names.
cd "$PREFIX/lib"
ln -sf "$(ls libleptonica*.a | grep -v '^libleptonica.a$' | head -1)" libleptonica.a
ln -sf "$(ls libtesseract*.a | grep -v '^libtesseract.a$' | head -1)" libtesseract.a
touch "$PREFIX/.done"
rm -rf "$BUILD"
echo "$PREFIX"
