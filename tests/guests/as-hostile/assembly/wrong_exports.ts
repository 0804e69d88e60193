// Test guest: declares core ABI v1 but exports nothing else the ABI needs, so the
// host must reject it at load with the missing export named. Not shipped.

export function sr_abi_version(): i32 {
  return 1;
}

export function tick(): i32 {
  return 0;
}
