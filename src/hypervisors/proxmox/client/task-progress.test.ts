import { describe, expect, it } from 'vitest';
import { taskLogProgress } from './task-progress.js';

describe('taskLogProgress', () => {
  it('takes the last wget dot-progress percentage', () => {
    expect(taskLogProgress([
      "downloading https://example.test/x.iso to /var/lib/vz/template/iso/x.iso",
      'Length: 657457152 (627M) [application/octet-stream]',
      '     0K ........ ........ ........ ........  5% 111M 5s',
      ' 32768K ........ ........ ........ ........ 10% 108M 5s',
    ])).toBe(10);
  });
  it('knows nothing before the first percentage, nor from other lines', () => {
    expect(taskLogProgress(['downloading https://example.test/x.iso', 'Length: unspecified [application/octet-stream]'])).toBeUndefined();
    expect(taskLogProgress(['TASK OK'])).toBeUndefined();
    expect(taskLogProgress(['url https://example.test/100%25.iso'])).toBeUndefined();
  });
});
