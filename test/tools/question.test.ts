import { describe, expect, it } from 'vitest';
import { checkAnswers } from '../../src/core/question-asks.ts';
import { answersFromText, answersText, type QuestionInfo } from '../../src/tools/question.ts';

const q = (question: string, labels: string[] = ['a', 'b'], extra: Partial<QuestionInfo> = {}): QuestionInfo => ({ question, header: 'H', options: labels.map((label) => ({ label, description: '' })), ...extra });

describe('the question tool\u2019s answer text', () => {
  it('is OpenCode\u2019s wording, and reads back into one text per question (quotes and separators inside included)', () => {
    const questions = [q('Use "strict" mode?'), q('Which, of these?'), q('Last')];
    const text = answersText(questions, [['yes'], ['a', 'b", "Last"="x'], []]);
    expect(text).toBe('User has answered your questions: "Use "strict" mode?"="yes", "Which, of these?"="a, b", "Last"="x", "Last"="Unanswered". You can now continue with the user\'s answers in mind.');
    expect(answersFromText(questions, answersText(questions, [['yes'], ['a', 'b'], []]))).toEqual([['yes'], ['a, b'], []]);
    expect(answersFromText(questions, 'permission denied')).toBeUndefined();
    expect(answersFromText([q('Other')], text)).toBeUndefined();
  });
});

describe('checkAnswers', () => {
  it('takes labels, one typed answer where allowed, several only for a multiple-choice question', () => {
    expect(checkAnswers([q('A'), q('B', ['x', 'y', 'z'], { multiple: true })], [['mine'], ['x', 'z', 'typed']])).toEqual([['mine'], ['x', 'z', 'typed']]);
    const refused = (questions: QuestionInfo[], answers: unknown) => {
      try {
        checkAnswers(questions, answers);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refused([q('A', ['a'], { custom: false })], [['other']])).toMatch(/^answers\[0\]\[0\]: "other" is not one of the choices \(a\), and this question takes no typed answer\.$/);
    expect(refused([q('A', ['a', 'b'], { multiple: true })], [['a', 'a']])).toBe('answers[0]: an answer given twice.');
    expect(refused([q('A')], [[]])).toBe('accepted');
  });
});
