#!/usr/bin/env bash
# build-scrontab.sh: build and install Slurm's `scrontab` client on Debian.
#
# Why this exists: Debian's slurm-wlm packaging leaves the scrontab client out
# of slurm-client (and out of every other binary package), although slurmctld
# supports scrontab (ScronParameters=enable) and Debian's private
# libslurmfull.so exports everything the client needs (slurm_request_crontab,
# slurm_update_crontab, slurm_remove_crontab, the cron-entry parser, ...).
# The schedules' tests need scrontab, so this script builds ONLY that client
# from the same upstream source release as the installed Slurm (Debian's orig
# tarball, from deb.debian.org), runs ./configure solely to get config.h,
# compiles src/scrontab/*.c with gcc, links it against Debian's own
# /usr/lib/<multiarch>/slurm-wlm/libslurmfull.so (with an rpath, as Debian's
# own "rpath" patch does for its clients) and installs /usr/local/bin/scrontab.
#
# Debian's patches are not applied: none of them touches src/scrontab or a
# header that changes what the client compiles to (they touch man pages,
# plugins, daemons, pack/cred code inside the library and default pid paths).
#
# Idempotent: every stage is skipped when its output is already there, and the
# whole script exits at once when a working scrontab is on PATH. One line per
# stage, each prefixed "scrontab: ".
#
# Environment: SCRONTAB_BUILD_DIR (default /var/cache/hpc-submit-scrontab),
#              SCRONTAB_PREFIX    (default /usr/local),
#              DEBIAN_MIRROR      (default http://deb.debian.org/debian).
set -euo pipefail

BUILD_DIR=${SCRONTAB_BUILD_DIR:-/var/cache/hpc-submit-scrontab}
PREFIX=${SCRONTAB_PREFIX:-/usr/local}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
POOL="$MIRROR/pool/main/s/slurm-wlm"
DEST="$PREFIX/bin/scrontab"
STAMP="$BUILD_DIR/installed-version"

say() { echo "scrontab: $*"; }
die() { echo "scrontab: error: $*" >&2; exit 1; }

# A working scrontab prints its usage for -h (exit 1) without touching any
# crontab. (Never probe it with -v or no argument: with stdin not a TTY it
# would install stdin as the caller's crontab.)
scrontab_works() {
  local bin=$1 out
  out=$("$bin" -h 2>&1 </dev/null || true)
  [[ $out == *"scrontab [-u user]"* ]]
}

# ---- 1. Already there? Allowed to build? -------------------------------------
if [[ $(id -u) -ne 0 ]]; then
  if command -v scrontab >/dev/null 2>&1 && scrontab_works scrontab; then
    say "already installed ($(command -v scrontab))"
  else
    say "skipped (not root)"
  fi
  exit 0
fi

if ! full_version=$(dpkg-query -W -f='${Version}' slurm-client 2>/dev/null) \
  || [[ -z $full_version ]] \
  || [[ $(dpkg-query -W -f='${db:Status-Status}' slurm-client 2>/dev/null) != installed ]]; then
  say "skipped (slurm-client is not installed)"
  exit 0
fi
upstream=${full_version#*:}   # drop an epoch
upstream=${upstream%-*}       # drop the Debian revision: 22.05.8-4+deb12u3 -> 22.05.8

if command -v scrontab >/dev/null 2>&1 && scrontab_works scrontab; then
  found=$(command -v scrontab)
  # Ours, built for another Slurm (an upgrade)? Then rebuild; otherwise done.
  if [[ $found != "$DEST" || ! -f $STAMP || $(cat "$STAMP") == "$full_version" ]]; then
    say "already installed ($found)"
    exit 0
  fi
  say "installed one was built for Slurm $(cat "$STAMP"); rebuilding for $full_version"
fi
say "building for Slurm $upstream (slurm-client $full_version)"

multiarch=$(gcc -print-multiarch 2>/dev/null || true)
[[ -n $multiarch ]] || multiarch=$(dpkg --print-architecture | sed 's/^amd64$/x86_64-linux-gnu/;s/^arm64$/aarch64-linux-gnu/')
LIBDIR=/usr/lib/$multiarch/slurm-wlm
[[ -f $LIBDIR/libslurmfull.so ]] || die "$LIBDIR/libslurmfull.so not found (is slurm-wlm-basic-plugins installed?)"

# ---- 2. Build tools ------------------------------------------------------------
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
{ command -v ld && command -v objcopy; } >/dev/null 2>&1 || need+=(binutils)
echo '#include <stdio.h>' | gcc -E -x c - >/dev/null 2>&1 || need+=(libc6-dev)
command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 || need+=(curl)
if ((${#need[@]})); then
  say "installing build tools: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  say "build tools present"
fi

fetch() { # url dest
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1"
  else
    wget -q -O "$2" "$1"
  fi
}

mkdir -p "$BUILD_DIR"
cd "$BUILD_DIR"

# ---- 3. Source tarball ---------------------------------------------------------
# Its name and checksum come from the package's .dsc; when that .dsc has left
# the pool (a superseded revision), the usual compressions are tried in turn.
tarball="" sha256=""
dsc="slurm-wlm_${full_version#*:}.dsc"
if [[ ! -s $dsc ]] && ! fetch "$POOL/$dsc" "$dsc.part" 2>/dev/null; then
  rm -f "$dsc.part"
else
  [[ -f $dsc.part ]] && mv "$dsc.part" "$dsc"
  read -r sha256 _ tarball < <(awk '/^Checksums-Sha256:/{s=1;next} /^[^ ]/{s=0} s && $3 ~ /\.orig\.tar\./{print $1, $2, $3; exit}' "$dsc") || true
fi
if [[ -n $tarball && -s $tarball ]] && echo "$sha256  $tarball" | sha256sum -c --quiet - >/dev/null 2>&1; then
  say "source $tarball present"
else
  if [[ -z $tarball ]]; then
    for ext in gz xz bz2; do
      t="slurm-wlm_${upstream}.orig.tar.$ext"
      [[ -s $t ]] && { tarball=$t; break; }
      if fetch "$POOL/$t" "$t.part" 2>/dev/null; then mv "$t.part" "$t"; tarball=$t; break; fi
      rm -f "$t.part"
    done
    [[ -n $tarball ]] || die "no slurm-wlm_${upstream}.orig.tar.{gz,xz,bz2} in $POOL"
    say "downloaded $tarball (no .dsc to check it against)"
  else
    fetch "$POOL/$tarball" "$tarball.part" || die "download of $POOL/$tarball failed"
    echo "$sha256  $tarball.part" | sha256sum -c --quiet - >/dev/null 2>&1 \
      || { rm -f "$tarball.part"; die "$tarball: sha256 does not match $dsc"; }
    mv "$tarball.part" "$tarball"
    say "downloaded $tarball (sha256 checked)"
  fi
fi

# ---- 4. Unpack -----------------------------------------------------------------
SRC="$BUILD_DIR/slurm-$upstream"
if [[ -f $SRC/.unpacked && $(cat "$SRC/.unpacked") == "$tarball" ]]; then
  say "source unpacked in $SRC"
else
  rm -rf "$SRC"
  mkdir -p "$SRC"
  tar -xf "$tarball" -C "$SRC" --strip-components=1
  [[ -d $SRC/src/scrontab ]] || die "$tarball has no src/scrontab"
  echo "$tarball" >"$SRC/.unpacked"
  say "unpacked into $SRC"
fi

# ---- 5. config.h ---------------------------------------------------------------
# Only config.h (and the generated slurm/slurm_version.h) is used. The options
# mirror Debian's debian/rules where they reach config.h; the optional
# libraries (munge, pam, pmix, ...) only matter for plugins, not for this client.
if [[ -f $SRC/config.h && -f $SRC/slurm/slurm_version.h ]]; then
  say "config.h present"
else
  (cd "$SRC" && ./configure -q --prefix=/usr --sysconfdir=/etc/slurm \
      --disable-debug --enable-multiple-slurmd --without-rpath \
      >"$BUILD_DIR/configure.log" 2>&1) \
    || { tail -n 20 "$BUILD_DIR/configure.log" >&2; die "configure failed (log: $BUILD_DIR/configure.log)"; }
  say "configured (config.h; log: $BUILD_DIR/configure.log)"
fi

# ---- 6. Compile and link -------------------------------------------------------
OUT="$BUILD_DIR/build-$upstream"
BIN="$OUT/scrontab"
mkdir -p "$OUT"
if [[ -x $BIN && -z $(find "$SRC/src/scrontab" "$SRC/config.h" -newer "$BIN" -print -quit) ]]; then
  say "binary up to date ($BIN)"
else
  # The usage text and the default crontab are linked in as binary blobs
  # (_binary_<name>_txt_start/_end), as src/scrontab/Makefile.am does.
  for ref in default_crontab usage; do
    (cd "$SRC/src/scrontab" &&
      ld -r -z noexecstack --format=binary -o "$OUT/$ref.bino" "$ref.txt" &&
      objcopy --rename-section .data=.rodata,alloc,load,readonly,data,contents "$OUT/$ref.bino")
  done
  gcc -O2 -g -pthread -DHAVE_CONFIG_H -I"$SRC" -I"$SRC/slurm" \
    -o "$BIN.tmp" "$SRC"/src/scrontab/*.c "$OUT"/default_crontab.bino "$OUT"/usage.bino \
    -L"$LIBDIR" -Wl,-rpath="$LIBDIR" -lslurmfull -ldl -Wl,--export-dynamic \
    2>"$OUT/gcc.log" || { cat "$OUT/gcc.log" >&2; die "compile/link failed"; }
  mv "$BIN.tmp" "$BIN"
  scrontab_works "$BIN" || die "built $BIN does not run"
  say "compiled $BIN (linked to $LIBDIR/libslurmfull.so)"
fi

# ---- 7. Install ----------------------------------------------------------------
if [[ -x $DEST ]] && cmp -s "$BIN" "$DEST"; then
  say "$DEST up to date"
else
  install -D -m 0755 "$BIN" "$DEST"
  say "installed $DEST"
fi
echo "$full_version" >"$STAMP"
scrontab_works "$DEST" || die "$DEST does not run"
say "done"
