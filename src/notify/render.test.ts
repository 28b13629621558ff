import { describe, expect, it } from 'vitest';
import { checkTemplate, preformattedHtml, renderTemplate } from './render.ts';

const same = (t: string) => ({ subject: t, text: t, html: t });

describe('renderTemplate', () => {
  it('escapes <script> in html only; text and subject keep it as written', () => {
    const out = renderTemplate(same('Account {{name}}'), { name: '<script>alert("x")</script> & Co' });
    expect(out.html).toBe('Account &lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt; &amp; Co');
    expect(out.text).toBe('Account <script>alert("x")</script> & Co');
    expect(out.subject).toBe('Account <script>alert("x")</script> & Co');
  });

  it('triple mustache leaves html unescaped (for trusted, pre-rendered fragments)', () => {
    expect(renderTemplate(same('{{{frag}}}'), { frag: '<b>x</b>' }).html).toBe('<b>x</b>');
  });

  it('missing variables render empty', () => {
    const out = renderTemplate(same('[{{missing}}][{{a.b.c}}]'), {});
    expect(out).toEqual({ subject: '[][]', text: '[][]', html: '[][]' });
  });

  it('renders numbers and nested fields', () => {
    const out = renderTemplate(same('{{signal.metric}} at {{signal.observed}}'), { signal: { metric: 'error_rate', observed: 0.25 } });
    expect(out.text).toBe('error_rate at 0.25');
    expect(out.html).toBe('error_rate at 0.25');
  });

  it.each([
    ['list section repeats', '{{#items}}<{{.}}>{{/items}}', { items: ['a', 'b'] }, '<a><b>'],
    ['true section shows', '{{#critical}}URGENT {{/critical}}ok', { critical: true }, 'URGENT ok'],
    ['false section hides', '{{#critical}}URGENT {{/critical}}ok', { critical: false }, 'ok'],
    ['missing section hides', '{{#critical}}URGENT {{/critical}}ok', {}, 'ok'],
    ['inverted section on empty list', '{{^items}}none{{/items}}', { items: [] }, 'none'],
    [
      'object section scopes',
      '{{#csm}}{{name}} <{{email}}>{{/csm}}',
      { csm: { name: 'Ann', email: 'ann@x.example' } },
      'Ann <ann@x.example>',
    ],
  ])('sections: %s', (_name, template, view, expected) => {
    expect(renderTemplate({ subject: 'x', text: template, html: 'x' }, view).text).toBe(expected);
  });

  it('subject is collapsed to one line; text keeps its line breaks', () => {
    const t = { subject: '  [{{tier}}]\n{{title}}\r\n  ', text: 'a\n{{title}}\nb', html: '' };
    const out = renderTemplate(t, { tier: 'gold', title: 'Error rate\r\nBcc: x@y.example' });
    expect(out.subject).toBe('[gold] Error rate Bcc: x@y.example');
    expect(out.text).toBe('a\nError rate\r\nBcc: x@y.example\nb');
  });

  it('does not change the global Mustache escape between renders', () => {
    renderTemplate(same('{{v}}'), { v: '<i>' });
    expect(renderTemplate(same('{{v}}'), { v: '<i>' }).html).toBe('&lt;i&gt;');
  });

  it('broken template => error naming the part', () => {
    expect(() => renderTemplate({ subject: 'ok', text: 'ok', html: '{{#open}}never closed' }, {})).toThrow(
      /invalid email template \(html\)/,
    );
  });
});

describe('checkTemplate', () => {
  it('usable template => no problems', () => {
    expect(checkTemplate(same('{{#a}}{{b}}{{/a}}'))).toEqual([]);
  });

  it('one message per broken part', () => {
    const problems = checkTemplate({ subject: '{{#a}}', text: 'fine', html: '{{/b}}' });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^subject: /);
    expect(problems[1]).toMatch(/^html: /);
  });
});

describe('preformattedHtml', () => {
  it('escapes markup and keeps the text preformatted', () => {
    expect(preformattedHtml('a <b> & "c"\nnext')).toBe('<pre style="font-family:monospace">a &lt;b&gt; &amp; &quot;c&quot;\nnext</pre>');
  });
});
