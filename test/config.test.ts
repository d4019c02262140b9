import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.HOST).toBe('0.0.0.0');
    expect(c.DEFAULT_MODEL).toBe('gpt2-mini');
    expect(c.SERVE_WEB).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('coerces numbers and booleans from strings', () => {
    const c = loadConfig({ PORT: '9000', SERVE_WEB: 'false', MODEL_LOADING: 'eager' });
    expect(c.PORT).toBe(9000);
    expect(c.SERVE_WEB).toBe(false);
    expect(c.MODEL_LOADING).toBe('eager');
  });

  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' });
    } catch (e) {
      expect((e as Error).message).toMatch(/PORT/);
      expect((e as Error).message).toMatch(/LOG_LEVEL/);
    }
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(8080);
  });
});
