import { describe, expect, it } from 'vitest';
import { normalizeMac, normalizeUuid } from './identity.js';
import { placeholders, renderTemplate, TemplateError } from './template.js';

function refusal(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error('expected a TemplateError');
}

describe('renderTemplate', () => {
  it('fills placeholders, with or without inner spaces', () => {
    expect(renderTemplate('talos.config={{ configUrl }} x={{x}}', { configUrl: 'http://a/b?c=d&e=f', x: '1' }))
      .toBe('talos.config=http://a/b?c=d&e=f x=1');
  });

  it.each([
    ['newline', 'a\nchain http://evil/'],
    ['carriage return', 'a\rb'],
    ['semicolon', 'a; shell'],
    ['expansion', '${net0/ip}'],
    ['or-chain', 'x || shell'],
    ['and-chain', 'x && shell'],
    ['backtick', 'a`b'],
    ['comment', 'console=ttyS0 #rest'],
    ['NUL', 'a\u0000b'],
  ])('refuses a value with a %s and names the parameter', (_what, value) => {
    const err = refusal(() => renderTemplate('kernel x {{cmd}}', { cmd: value }));
    expect(err.code).toBe('UnsafeParameterValue');
    expect(err.parameter).toBe('cmd');
    expect(err.message).toContain('parameter cmd');
    expect(err.message).not.toContain(value);
  });

  it('refuses an unsafe value even when the template does not use it', () => {
    expect(refusal(() => renderTemplate('boot', { unused: 'a\nb' })).parameter).toBe('unused');
  });

  it('names a placeholder that has no value', () => {
    const err = refusal(() => renderTemplate('kernel {{kernelUrl}}', {}));
    expect(err.code).toBe('MissingParameter');
    expect(err.parameter).toBe('kernelUrl');
  });

  it('refuses an invalid parameter name', () => {
    expect(refusal(() => renderTemplate('x', { 'bad name': 'v' })).code).toBe('InvalidParameterName');
  });

  it('lists placeholders once, in order', () => {
    expect(placeholders('{{a}} {{ b }} {{a}}')).toEqual(['a', 'b']);
  });
});

describe('identity', () => {
  it('normalises MACs in the forms firmware and people write them', () => {
    expect(normalizeMac('52:54:00:AB:cd:EF')).toBe('52:54:00:ab:cd:ef');
    expect(normalizeMac('52-54-00-ab-cd-ef')).toBe('52:54:00:ab:cd:ef');
    expect(normalizeMac('525400abcdef')).toBe('52:54:00:ab:cd:ef');
    for (const bad of ['', '52:54:00:ab:cd', '52:54:00-ab:cd:ef', 'zz:54:00:ab:cd:ef', '52:54:00:ab:cd:ef:00', '52:54:00:ab:cd:ef\n']) {
      expect(normalizeMac(bad)).toBeUndefined();
    }
  });

  it('normalises UUIDs and treats the nil UUID as none', () => {
    expect(normalizeUuid('4C4C4544-0042-3510-8052-B3C04F4E4E31')).toBe('4c4c4544-0042-3510-8052-b3c04f4e4e31');
    expect(normalizeUuid('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(normalizeUuid('4c4c4544-0042-3510-8052-b3c04f4e4e3')).toBeUndefined();
  });
});
