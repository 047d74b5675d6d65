# Sourced by ci/kernels: the virtual machine.

# KVM where a guest boots under it within seconds; software emulation (TCG)
# otherwise. /dev/kvm can open and still hang its guests, as on machines
# that are guests themselves, so the probe boots the kernel in DIR for real.
# XDPTURN_QEMU_ACCEL=kvm|tcg skips the probe; its answer is kept for a day
# in the cache (CACHE/accelerator), as a guest that hangs costs 10 seconds.
choose_accelerator() {
  local dir=$1 log remembered="$cache/accelerator"
  if [ -n "${XDPTURN_QEMU_ACCEL:-}" ]; then
    echo "$XDPTURN_QEMU_ACCEL"
    return
  fi
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo tcg; return; }
  if [ -n "$(find "$remembered" -mmin -1440 2>/dev/null)" ]; then
    cat "$remembered"
    return
  fi
  log=$(mktemp)
  timeout --kill-after=5 10 qemu-system-x86_64 -accel kvm -machine q35 -cpu host -m 256 -nodefaults \
    -display none -no-reboot -kernel "$dir/vmlinuz" -initrd "$dir/initramfs.img" \
    -append "console=ttyS0 panic=-1 xdpturn.probe" -serial "file:$log" </dev/null >/dev/null 2>&1 || true
  if grep -q "probe booted" "$log"; then echo kvm; else echo tcg; fi | tee "$remembered"
  rm -f "$log"
}

# The guest's whole run, written for the init of ci/kernel/init to start.
write_guest_start() {
  local out=$1
  {
    echo "# Started by the guest's init (ci/kernel/init); written by ci/kernels."
    printf 'cd %q\n' "$repo"
    printf 'exec bash ci/kernel/guest --build %q --cases %q' "$build_dir" "$cases"
    [ "$quick" = 1 ] && printf ' --quick'
    if [ ${#command[@]} -gt 0 ]; then
      printf ' --'
      printf ' %q' "${command[@]}"
    fi
    echo
  } >"$out/start"
}

boot_kernel() {
  local name=$1 dir=$2 out=$3 accel=$4
  local limit=$timeout_seconds
  if [ -z "$limit" ]; then
    # Measured under TCG (docs/kernels.md): a quick run takes 2-4 minutes,
    # the whole one 8-15. KVM is ten times faster.
    limit=$([ "$quick" = 1 ] && echo 600 || echo 1800)
    [ "$accel" = tcg ] || limit=$((limit / 3))
  fi
  write_guest_start "$out"
  local cpu=max
  [ "$accel" = tcg ] || cpu=host
  echo "ci/kernels: $name: booting $(cat "$dir/release") ($accel, at most ${limit} s)"
  local start=$SECONDS status=0
  timeout --kill-after=10 "$limit" qemu-system-x86_64 -accel "$accel" -machine q35 -cpu "$cpu" \
    -smp "$(nproc)" -m 3072 -nodefaults -display none -no-reboot \
    -kernel "$dir/vmlinuz" -initrd "$dir/initramfs.img" \
    -append "console=ttyS0 panic=-1 oops=panic softlockup_panic=1 loglevel=4" \
    -serial "file:$out/console.log" \
    -virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$out,mount_tag=results,security_model=none" \
    </dev/null >"$out/qemu.log" 2>&1 || status=$?
  local seconds=$((SECONDS - start))
  printf '%s\n' "$(cat "$dir/release")" >"$out/release"
  cp "$dir/package" "$out/package"
  printf '%s\n' "$accel" >"$out/accelerator"
  printf '%s\n' "$seconds" >"$out/seconds"
  if [ -f "$out/guest-exit" ]; then
    echo ran >"$out/outcome"
  elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo hang >"$out/outcome"
  else
    echo "no-result" >"$out/outcome"
  fi
  echo "ci/kernels: $name: $(cat "$out/outcome") after ${seconds} s"
}
