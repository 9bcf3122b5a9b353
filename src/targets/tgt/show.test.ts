import { describe, expect, it } from 'vitest';
import { parseTargetShow } from './show.js';

// Captured from tgtd 1.0.85 (Debian 12) with one initiator logged in.
const SHOW = `Target 1: iqn.2024-01.io.bootplane:default.lab-1
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 3
            Initiator: iqn.2024-01.io.bootplane:525400123456 alias: none
            Connection: 0
                IP Address: 127.0.0.1
    LUN information:
        LUN: 0
            Type: controller
            Backing store type: null
            Backing store path: None
            Backing store flags: 
        LUN: 1
            Type: disk
            Size: 17 MB, Block size: 512
            Backing store type: rdwr
            Backing store path: /var/lib/bootplane/diskless/copies/default_lab-1.img
            Backing store flags: 
    Account information:
        dls-4f2a
    ACL information:
        ALL
        iqn.2024-01.io.bootplane:525400123456
Target 2: iqn.2024-01.io.bootplane:default.lab-2
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            Backing store path: None
    Account information:
    ACL information:
`;

describe('parseTargetShow', () => {
  it('reads targets, LUNs, admissions and connections', () => {
    const [one, two] = parseTargetShow(SHOW);
    expect(one).toMatchObject({ tid: 1, iqn: 'iqn.2024-01.io.bootplane:default.lab-1', initiators: ['iqn.2024-01.io.bootplane:525400123456'], addresses: ['ALL'], chapUsers: ['dls-4f2a'] });
    expect([...one!.luns]).toEqual([[1, '/var/lib/bootplane/diskless/copies/default_lab-1.img']]);
    expect(one!.connections).toEqual([{ initiator: 'iqn.2024-01.io.bootplane:525400123456', address: '127.0.0.1' }]);
    expect(two).toMatchObject({ tid: 2, initiators: [], addresses: [], connections: [] });
    expect(two!.luns.size).toBe(0);
  });

  it('reads an empty table', () => {
    expect(parseTargetShow('')).toEqual([]);
  });
});
