import { describe, expect, it } from 'vitest';
import { formatPythonFloat, metricValueFromJson, metricValueToJson, parsePythonFloat } from './python-float.js';

// repr() of each value, printed by CPython 3.
const PYTHON_REPR: [number, string][] = [
  [1.0, '1.0'], [0.5, '0.5'], [1 / 3, '0.3333333333333333'], [0.1, '0.1'], [0.7999999999999999, '0.7999999999999999'],
  [1e-5, '1e-05'], [1.5e-5, '1.5e-05'], [0.0001, '0.0001'], [0.00012345, '0.00012345'], [1e16, '1e+16'],
  // eslint-disable-next-line no-loss-of-precision -- 17 digits on purpose: the value Python rounds as well
  [1234567890123456.0, '1234567890123456.0'], [12345678901234567.0, '1.2345678901234568e+16'], [1e22, '1e+22'],
  [1.7976931348623157e308, '1.7976931348623157e+308'], [5e-324, '5e-324'], [-2.5, '-2.5'], [123.0, '123.0'],
  [-0.0, '-0.0'], [0.0, '0.0'], [100.0, '100.0'], [3.14159, '3.14159'], [2 ** 53, '9007199254740992.0'], [1e-7, '1e-07'],
  [6.02214076e23, '6.02214076e+23'], [0.3, '0.3'], [2.0000000000000004, '2.0000000000000004'],
  [NaN, 'nan'], [Infinity, 'inf'], [-Infinity, '-inf'],
];

describe('Python float text', () => {
  it.each(PYTHON_REPR)('formats %s as Python repr %s', (value, text) => {
    expect(formatPythonFloat(value)).toBe(text);
  });

  it('parses what it formats back to the same number', () => {
    for (const [value, text] of PYTHON_REPR) {
      const back = parsePythonFloat(text);
      if (Number.isNaN(value)) expect(back).toBeNaN();
      else expect(Object.is(back, value)).toBe(true);
    }
    expect(parsePythonFloat('Infinity')).toBe(Infinity);
    expect(parsePythonFloat('1')).toBe(1);
    expect(parsePythonFloat('1.')).toBe(1);
    expect(parsePythonFloat('abc')).toBeNull();
    expect(parsePythonFloat('0.3333333333333333 1')).toBeNull();
  });

  it('maps non-finite values to the REST API strings and back', () => {
    expect([NaN, Infinity, -Infinity, 0.5].map(metricValueToJson)).toEqual(['NaN', 'Infinity', '-Infinity', 0.5]);
    expect(metricValueFromJson('NaN')).toBeNaN();
    expect(metricValueFromJson('Infinity')).toBe(Infinity);
    expect(metricValueFromJson('-Infinity')).toBe(-Infinity);
    expect(metricValueFromJson(1.7976931348623157e308)).toBe(Number.MAX_VALUE);
  });
});
