// Which VirtualMachine made a VM. bootplane writes a marker line into the VM's free-text
// description (Proxmox `description`, libvirt `<description>`) when it creates it; a VM without
// the marker of the VirtualMachine asking is someone else's and is never taken over silently.

const MARKER = /(?:^|\n)bootplane-owner=([0-9A-Za-z-]{1,64})(?:\n|$)/;

/** The description a created VM carries: a line for people and the marker line. */
export function ownerDescription(namespace: string, name: string, uid: string): string {
  return `Created by bootplane for VirtualMachine ${namespace}/${name}.\nbootplane-owner=${uid}`;
}

/** The owner uid in a description, or undefined when the VM has no bootplane marker. */
export function ownerOf(description: string | undefined): string | undefined {
  if (!description) return undefined;
  return MARKER.exec(description.replace(/\r\n/g, '\n'))?.[1];
}
