-- A few subtopics so a new installation has something to teach.
INSERT INTO subtopics (topic, name, description, instructions) VALUES
  ('mathematics', 'Fractions', 'Adding, comparing and simplifying fractions',
   'Teach fractions with everyday examples such as pizza slices. Ask one question at a time.'),
  ('mathematics', 'Percentages', 'Percent as a fraction of one hundred',
   'Explain percentages through discounts and tips; check understanding with a short sum.'),
  ('science', 'Photosynthesis', 'How plants turn light into food',
   'Explain photosynthesis simply; ask the learner what plants need to grow.'),
  ('science', 'The water cycle', 'Evaporation, condensation, precipitation',
   'Walk through the water cycle step by step and ask the learner to describe one step back.'),
  ('languages', 'Spanish greetings', 'Saying hello and introducing yourself in Spanish',
   'Speak slowly, mix English explanations with short Spanish phrases and ask the learner to repeat.')
ON CONFLICT (topic, name) DO NOTHING;
