// How a machine identifies itself: its NIC's MAC (as iPXE prints ${net0/mac}) and its SMBIOS
// UUID (${uuid}). Both are validated strictly and brought to one canonical form, the form the
// cache indexes use, so "52-54-00-AB-CD-EF" and "52:54:00:ab:cd:ef" find the same machine.

const MAC = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;
const MAC_BARE = /^[0-9a-f]{12}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lower-case, colon-separated MAC, or undefined when the input is not a MAC. */
export function normalizeMac(input: string): string | undefined {
  // iPXE's ${net0/mac} is already canonical: hand it back as it is (no regex, no new strings).
  if (isCanonicalMac(input)) return input;
  if (input.length === 17 && MAC.test(input)) return input.toLowerCase().replaceAll('-', ':');
  if (input.length === 12 && MAC_BARE.test(input)) return input.toLowerCase().replace(/(..)(?!$)/g, '$1:');
  return undefined;
}

/** Whether input is already aa:bb:cc:dd:ee:ff with lower-case hex digits. */
function isCanonicalMac(input: string): boolean {
  if (input.length !== 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = input.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 58) return false; // ':'
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false; // 0-9, a-f
  }
  return true;
}

/** Lower-case SMBIOS UUID, or undefined. iPXE prints the nil UUID when firmware has none. */
export function normalizeUuid(input: string): string | undefined {
  if (input.length !== 36 || !UUID.test(input)) return undefined;
  const uuid = input.toLowerCase();
  return uuid === '00000000-0000-0000-0000-000000000000' ? undefined : uuid;
}

/** MAC without separators, for IQNs and file names. */
export function macHex(mac: string): string {
  return mac.replaceAll(':', '');
}

export type Firmware = 'bios' | 'uefi';

/** iPXE's ${platform}: pcbios or efi (anything else is refused by the server's validation). */
export function firmwareOf(platform: string | undefined): Firmware {
  return platform === 'efi' ? 'uefi' : 'bios';
}
