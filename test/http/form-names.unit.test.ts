import { validateMessage } from '../../src/sqs/limits.js';
import { formFieldName, withFormFieldNames } from '../../src/http/form-names.js';

describe('form field names in errors', () => {
  it('names the form fields a person filled in, not the JSON API\'s', () => {
    expect(withFormFieldNames('groupId is required: the queue is a FIFO queue and no default group id is configured')).toBe(
      'group_id is required: the queue is a FIFO queue and no default group id is configured',
    );
    expect(withFormFieldNames('delaySeconds "x" is not an integer from 0 to 900')).toBe('delay_seconds "x" is not an integer from 0 to 900');
    expect(withFormFieldNames('deduplicationId is only allowed on FIFO queues')).toBe('deduplication_id is only allowed on FIFO queues');
    expect([formFieldName('groupId'), formFieldName('delaySeconds'), formFieldName('body'), formFieldName('attributes')]).toEqual(['group_id', 'delay_seconds', 'message_body', 'attr']);
  });
  it('covers the messages validation really gives', () => {
    const fifo = validateMessage({ body: 'x' }, { fifo: true, maxMessageBytes: 1024, contentBasedDedup: false });
    const delay = validateMessage({ body: 'x', delaySeconds: 'soon' }, { fifo: false, maxMessageBytes: 1024, contentBasedDedup: false });
    for (const r of [fifo, delay]) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(withFormFieldNames(r.message)).not.toMatch(/groupId|delaySeconds/);
    }
  });
});
