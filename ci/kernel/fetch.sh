# Sourced by ci/kernels. fetch_kernel NAME KIND ENTRY DIR leaves in DIR:
#   vmlinuz          the kernel image
#   initramfs.img    busybox, ci/kernel/init and the modules the guest needs
#   release          the kernel's release (uname -r)
#   package          where it came from (package and version, or the paths)
# Debian's packages are cached in DIR; XDPTURN_KERNEL_REFRESH=1 fetches again.
# Run it under `set -e` in a subshell of its own (ci/kernels does): any
# failing step fails the fetch.

# What the guest needs from modules: the 9p share over virtio, the overlay on
# top of it, and veth for the network tests. Built-in ones are skipped.
guest_modules=(virtio_pci 9pnet_virtio 9p overlay veth)

# apt with a configuration of its own in DIR/apt: its sources list, package
# lists and download cache. The machine's apt setup is never read or written.
private_apt() {
  local dir=$1
  shift
  "$@" -q -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=- \
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
    -o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User=root
}

# Debian's candidate of linux-image-amd64 from the entry's sources: the image
# package it depends on, or (sid) its linux-binary, linux-modules and
# linux-base packages (the last holds modules.builtin and modules.order).
fetch_debian_kernel() {
  local entry=$1 dir=$2 apt="$2/apt"
  rm -rf "$apt" "$dir/root"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/root"
  tr '|' '\n' <<<"$entry" | sed 's/^ *//; s/ *$//' >"$apt/sources.list"
  private_apt "$apt" apt-get update >/dev/null
  local image
  image=$(private_apt "$apt" apt-cache depends linux-image-amd64 |
    sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | sed -n 1p)
  [ -n "$image" ] || { echo "no linux-image-amd64 in: $entry"; return 1; }
  local packages=("$image")
  local parts
  parts=$(private_apt "$apt" apt-cache depends "$image" |
    sed -n 's/^ *Depends: \(linux-\(binary\|modules\|base\)-[^ ]*\)$/\1/p')
  [ -z "$parts" ] || mapfile -t packages <<<"$parts"
  (cd "$apt/cache/archives" && private_apt "$apt" apt-get download "${packages[@]}" >/dev/null)
  local deb
  for deb in "$apt"/cache/archives/*.deb; do
    dpkg-deb -x "$deb" "$dir/root"
  done
  # bookworm's packages: /boot/vmlinuz-RELEASE and /lib/modules/RELEASE;
  # sid's (merged /usr): /usr/lib/modules/RELEASE, the image inside it.
  local modules_root release image_file
  for modules_root in "$dir/root/lib/modules" "$dir/root/usr/lib/modules"; do
    [ -d "$modules_root" ] && break
  done
  release=$(ls "$modules_root" 2>/dev/null | sed -n 1p)
  [ -n "$release" ] || { echo "the packages ${packages[*]} hold no modules directory"; return 1; }
  for image_file in "$dir/root/boot/vmlinuz-$release" "$modules_root/$release/vmlinuz"; do
    [ -f "$image_file" ] && break
  done
  [ -f "$image_file" ] || { echo "the packages ${packages[*]} hold no kernel image"; return 1; }
  cp "$image_file" "$dir/vmlinuz"
  rm -rf "$dir/modules"
  mv "$modules_root/$release" "$dir/modules"
  rm -rf "$dir/root" "$apt/cache/archives"/*.deb
  printf '%s\n' "$release" >"$dir/release"
  printf '%s (%s)\n' "${packages[*]}" "$(private_apt "$apt" apt-cache show --no-all-versions "$image" |
    sed -n 's/^Version: //p')" >"$dir/package"
}

fetch_local_kernel() {
  local image modules dir=$2
  read -r image modules <<<"$1"
  [ -f "$image" ] || { echo "no kernel image at '$image'"; return 1; }
  [ -d "$modules" ] || { echo "no modules directory at '$modules'"; return 1; }
  cp "$image" "$dir/vmlinuz"
  rm -rf "$dir/modules"
  cp -r "$modules" "$dir/modules"
  # The directory's name, as lib/modules/RELEASE is named; the report takes
  # the guest's own uname -r once it has booted.
  basename "$modules" >"$dir/release"
  printf '%s %s\n' "$image" "$modules" >"$dir/package"
}

# The modules to load, dependencies first, as paths inside lib/modules.
module_load_order() {
  local modules=$1 wanted dep line
  declare -A seen=()
  for wanted in "${guest_modules[@]}"; do
    line=$(grep -E "/${wanted}\.ko(\.[a-z]+)?:" "$modules/modules.dep" || true)
    if [ -z "$line" ]; then
      grep -qE "/${wanted}\.ko" "$modules/modules.builtin" ||
        { echo "the kernel has no module $wanted and does not build it in" >&2; return 1; }
      continue
    fi
    # modules.dep lists every dependency, the deepest last.
    local deps=(${line#*:})
    local i
    for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
      dep=${deps[i]}
      [ -n "${seen[$dep]:-}" ] || { seen[$dep]=1; echo "$dep"; }
    done
    dep=${line%%:*}
    [ -n "${seen[$dep]:-}" ] || { seen[$dep]=1; echo "$dep"; }
  done
}

build_initramfs() {
  local dir=$1 staging="$1/initramfs"
  rm -rf "$staging"
  mkdir -p "$staging"/{bin,dev,proc,sys,modules}
  cp /bin/busybox "$staging/bin/busybox"
  cp ci/kernel/init "$staging/init"
  chmod 755 "$staging/init"
  local order module name
  order=$(module_load_order "$dir/modules")
  : >"$staging/modules/order"
  for module in $order; do
    name=$(basename "$module")
    # busybox's insmod reads plain .ko files only.
    case "$name" in
      *.ko.xz) xz -dc "$dir/modules/$module" >"$staging/modules/${name%.xz}"; name=${name%.xz} ;;
      *.ko.zst) zstd -qdc "$dir/modules/$module" >"$staging/modules/${name%.zst}"; name=${name%.zst} ;;
      *.ko.gz) gzip -dc "$dir/modules/$module" >"$staging/modules/${name%.gz}"; name=${name%.gz} ;;
      *) cp "$dir/modules/$module" "$staging/modules/$name" ;;
    esac
    echo "$name" >>"$staging/modules/order"
  done
  (cd "$staging" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$dir/initramfs.img"
  rm -rf "$staging"
}

# depmod wants BASE/lib/modules/RELEASE: give it one through a symlink.
depmod_into() {
  local dir=$1 release base="$1/depmod"
  release=$(cat "$dir/release")
  rm -rf "$base"
  mkdir -p "$base/lib/modules"
  ln -s "$dir/modules" "$base/lib/modules/$release"
  depmod -b "$base" "$release"
  rm -rf "$base"
}

fetch_kernel() {
  local name=$1 kind=$2 entry=$3 dir=$4
  mkdir -p "$dir"
  if [ ! -f "$dir/ready" ] || [ "$(cat "$dir/ready")" != "$kind $entry" ] ||
    [ "${XDPTURN_KERNEL_REFRESH:-0}" = 1 ]; then
    rm -f "$dir/ready"
    case "$kind" in
      apt) fetch_debian_kernel "$entry" "$dir" ;;
      local) fetch_local_kernel "$entry" "$dir" ;;
      *) echo "kernel $name: unknown kind '$kind' (apt or local)"; return 1 ;;
    esac
    [ -f "$dir/modules/modules.dep" ] || depmod_into "$dir"
  fi
  build_initramfs "$dir"
  # Only a kernel that made a guest is kept as fetched.
  printf '%s\n' "$kind $entry" >"$dir/ready"
  echo "kernel $name: $(cat "$dir/release") from $(cat "$dir/package")"
}
