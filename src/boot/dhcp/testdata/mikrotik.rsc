# bootplane: network boot for RouterOS 7 (generated; edit the BootProfiles and NodeBootAssignments instead)
/ip dhcp-server option
add name=bootplane-ipxe-script code=67 value="'http://192.0.2.1:8082/boot.ipxe'"
add name=bootplane-uefi-file code=67 value="'ipxe.efi'"
/ip dhcp-server option sets
add name=bootplane-ipxe options=bootplane-ipxe-script
add name=bootplane-uefi options=bootplane-uefi-file
/ip dhcp-server matcher
add name=bootplane-ipxe server=dhcp1 code=77 value="iPXE" option-set=bootplane-ipxe
add name=bootplane-uefi-x64 server=dhcp1 code=93 value=0x0007 option-set=bootplane-uefi
add name=bootplane-uefi-bc server=dhcp1 code=93 value=0x0009 option-set=bootplane-uefi
/ip dhcp-server network
add address=192.0.2.0/24 gateway=192.0.2.1 next-server=192.0.2.1 boot-file-name=undionly.kpxe
/ip dhcp-server lease
add server=dhcp1 mac-address=52:54:00:12:34:56 address=192.0.2.21 comment="lab/cp-1 cp-1"
add server=dhcp1 mac-address=BC:24:11:00:00:01 address=192.0.2.30 comment="lab/web-vm"
# lab/web-vm (bc:24:11:00:00:02) has no fixed address: it gets a pool address
# lab/worker-1 (52:54:00:12:34:57) has no fixed address: it gets a pool address
