-- The tutor's store: assessments of a learner's understanding of a concept,
-- worked examples per subtopic, and a summary per conversation.

-- level: 0 not yet assessed, 1 emerging, 2 developing, 3 proficient,
-- 4 mastered (VgUnderstandingLevel in gateway/store/store.h).
CREATE TABLE assessments (
  id TEXT PRIMARY KEY CHECK (typeof(id) = 'text' AND length(id) = 36),
  identity TEXT NOT NULL CHECK (typeof(identity) = 'text' AND length(identity) BETWEEN 1 AND 128),
  conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
  subtopic_id INTEGER REFERENCES subtopics (id) ON DELETE SET NULL,
  concept TEXT NOT NULL CHECK (typeof(concept) = 'text' AND length(concept) BETWEEN 1 AND 128),
  level INTEGER NOT NULL CHECK (typeof(level) = 'integer' AND level BETWEEN 0 AND 4),
  evidence TEXT NOT NULL DEFAULT ''
    CHECK (typeof(evidence) = 'text' AND length(CAST(evidence AS BLOB)) <= 2048),
  created_at TIMESTAMP NOT NULL CHECK (typeof(created_at) = 'text')
);
-- This learner's progress (per concept, in time order).
CREATE INDEX idx_assessments_learner ON assessments (identity, concept, created_at);
-- This subtopic's progress across learners.
CREATE INDEX idx_assessments_subtopic ON assessments (subtopic_id, concept);

CREATE TABLE subtopic_examples (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subtopic_id INTEGER NOT NULL REFERENCES subtopics (id) ON DELETE CASCADE,
  concept TEXT NOT NULL CHECK (typeof(concept) = 'text' AND length(concept) BETWEEN 1 AND 128),
  difficulty TEXT NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard')),
  problem TEXT NOT NULL CHECK (typeof(problem) = 'text' AND length(problem) BETWEEN 1 AND 4000),
  solution TEXT NOT NULL CHECK (typeof(solution) = 'text' AND length(solution) BETWEEN 1 AND 8000)
);
CREATE INDEX idx_subtopic_examples_lookup ON subtopic_examples (subtopic_id, concept, difficulty);

ALTER TABLE conversations ADD COLUMN summary TEXT
  CHECK (summary IS NULL OR (typeof(summary) = 'text' AND length(CAST(summary AS BLOB)) <= 8192));

-- Worked examples for the shipped subtopics. Concepts are lower case with
-- single spaces, the form the store normalizes every concept to.
WITH v (topic, name, concept, difficulty, problem, solution) AS (VALUES
  ('mathematics', 'Fractions', 'equivalent fractions', 'easy',
   'Is 2/4 the same amount as 1/2?',
   'Yes. Multiply the top and the bottom of 1/2 by 2: (1 x 2)/(2 x 2) = 2/4. Cut each half of a pizza into two pieces: there are now 4 pieces, and 2 of them are still half the pizza.'),
  ('mathematics', 'Fractions', 'simplifying fractions', 'easy',
   'Simplify 6/8.',
   'The greatest number that divides both 6 and 8 is 2. 6 / 2 = 3 and 8 / 2 = 4, so 6/8 = 3/4. 3 and 4 share no factor other than 1, so 3/4 is the simplest form.'),
  ('mathematics', 'Fractions', 'common denominators', 'medium',
   'Rewrite 1/3 and 1/4 so they have the same denominator.',
   'The least common multiple of 3 and 4 is 12. 1/3 = (1 x 4)/(3 x 4) = 4/12 and 1/4 = (1 x 3)/(4 x 3) = 3/12.'),
  ('mathematics', 'Fractions', 'adding fractions', 'medium',
   'What is 1/3 + 1/4?',
   'Use the common denominator 12: 1/3 = 4/12 and 1/4 = 3/12. Add the numerators: 4/12 + 3/12 = 7/12. 7 and 12 share no factor, so the answer is 7/12.'),
  ('mathematics', 'Fractions', 'comparing fractions', 'hard',
   'Which is larger, 5/8 or 3/5?',
   'Use the common denominator 40: 5/8 = 25/40 and 3/5 = 24/40. 25/40 is more than 24/40, so 5/8 is larger, by 1/40. Cross-multiplying gives the same answer: 5 x 5 = 25 is more than 3 x 8 = 24.'),
  ('mathematics', 'Fractions', 'adding fractions', 'hard',
   'What is 2 1/2 + 1 2/3?',
   'Write both as improper fractions: 2 1/2 = 5/2 and 1 2/3 = 5/3. Common denominator 6: 5/2 = 15/6 and 5/3 = 10/6. 15/6 + 10/6 = 25/6 = 4 1/6. Check: 2.5 + 1.67 is about 4.17.'),

  ('mathematics', 'Percentages', 'percent as a fraction', 'easy',
   'Write 25% as a fraction in its simplest form.',
   'Percent means per hundred, so 25% = 25/100. Divide the top and the bottom by 25: 25/100 = 1/4. A quarter of something is 25% of it.'),
  ('mathematics', 'Percentages', 'percent of a quantity', 'easy',
   'What is 10% of 80?',
   '10% = 10/100 = 1/10, so 10% of 80 is 80 / 10 = 8.'),
  ('mathematics', 'Percentages', 'percent of a quantity', 'medium',
   'A jacket costs 60 and is 25% off. What is the sale price?',
   '25% of 60 is 60 / 4 = 15, so the discount is 15 and the sale price is 60 - 15 = 45. Another way: you pay 100% - 25% = 75% of the price, and 0.75 x 60 = 45.'),
  ('mathematics', 'Percentages', 'percent of a quantity', 'medium',
   'The bill is 40. How much is a 15% tip?',
   'Split 15% into 10% + 5%. 10% of 40 is 4, and 5% is half of that, 2. So the tip is 4 + 2 = 6.'),
  ('mathematics', 'Percentages', 'percent change', 'hard',
   'A price rises from 50 to 65. By what percentage did it rise?',
   'The change is 65 - 50 = 15. Divide the change by the original price: 15 / 50 = 0.30, which is 30%. Always divide by the value before the change.'),
  ('mathematics', 'Percentages', 'percent change', 'hard',
   'A price rises by 20% and then falls by 20%. Is it back where it started?',
   'No. Start at 100: a 20% rise gives 100 + 20 = 120. A 20% fall is taken of 120, which is 24, so the price ends at 120 - 24 = 96, 4% below where it started.'),

  ('science', 'Photosynthesis', 'inputs of photosynthesis', 'easy',
   'What three things does a plant need to carry out photosynthesis?',
   'Light (usually sunlight), water, which the roots take up from the soil, and carbon dioxide, which enters the leaves from the air through tiny pores called stomata.'),
  ('science', 'Photosynthesis', 'outputs of photosynthesis', 'easy',
   'What does a plant make in photosynthesis, and what does it give off?',
   'It makes glucose, a sugar the plant uses for energy and to build new material (it stores the extra as starch). It gives off oxygen into the air.'),
  ('science', 'Photosynthesis', 'role of chlorophyll', 'medium',
   'Why are most leaves green, and why does that matter for photosynthesis?',
   'Leaves contain chlorophyll, a pigment in the chloroplasts. It absorbs mostly red and blue light and reflects green light, so leaves look green. The light energy it absorbs is what drives photosynthesis.'),
  ('science', 'Photosynthesis', 'photosynthesis equation', 'hard',
   'Write the balanced symbol equation for photosynthesis.',
   '6 CO2 + 6 H2O -> C6H12O6 + 6 O2, using light energy absorbed by chlorophyll. Check the balance: 6 carbon atoms, 12 hydrogen atoms and 18 oxygen atoms on each side.'),
  ('science', 'Photosynthesis', 'photosynthesis and respiration', 'hard',
   'A plant sits in a sealed glass jar. What happens to the carbon dioxide in the jar in bright light, and in the dark?',
   'In bright light the carbon dioxide falls: photosynthesis uses it faster than the plant''s respiration releases it. In the dark photosynthesis stops but respiration goes on, so the carbon dioxide rises.'),

  ('science', 'The water cycle', 'evaporation', 'easy',
   'A puddle disappears on a sunny day. Where does the water go?',
   'The heat of the sun turns the liquid water into water vapour, an invisible gas. This is evaporation. The vapour mixes into the air and rises.'),
  ('science', 'The water cycle', 'condensation', 'easy',
   'Why do drops of water form on the outside of a glass of cold water?',
   'The air holds water vapour. When it touches the cold glass it cools and turns back into liquid water: condensation. Clouds form the same way, when rising vapour cools high in the sky.'),
  ('science', 'The water cycle', 'precipitation', 'medium',
   'Clouds are made of water. Why does it not rain all the time?',
   'Cloud droplets are tiny and light enough for rising air to hold up. It rains when droplets bump together and merge into drops too heavy to stay up; they then fall as rain, or as snow or hail when it is cold enough.'),
  ('science', 'The water cycle', 'the whole cycle', 'hard',
   'Trace a drop of water from the ocean, over land and back to the ocean.',
   'The sun heats the ocean and the water evaporates. The vapour rises, cools and condenses into cloud droplets. Wind carries the cloud over land, where the water falls as precipitation. It then runs off into streams and rivers or soaks into the ground as groundwater (collection), and flows back to the ocean. Plants also return water to the air through their leaves (transpiration).'),

  ('languages', 'Spanish greetings', 'greetings', 'easy',
   'How do you say good morning, good afternoon and good evening in Spanish?',
   'Buenos días (good morning), buenas tardes (good afternoon, until it gets dark) and buenas noches (good evening, and also good night). Hola means hello at any time of day.'),
  ('languages', 'Spanish greetings', 'introducing yourself', 'easy',
   'Say "My name is Ana" in Spanish.',
   'Me llamo Ana (literally, I call myself Ana). You can also say Mi nombre es Ana, or simply Soy Ana (I am Ana).'),
  ('languages', 'Spanish greetings', 'formal and informal', 'medium',
   'How do you ask "How are you?" to a friend, and to your teacher?',
   'To a friend, informally (tú): ¿Cómo estás? To a teacher, formally (usted): ¿Cómo está usted? A reply: Bien, gracias. ¿Y tú? to the friend, or ¿Y usted? to the teacher.'),
  ('languages', 'Spanish greetings', 'introducing yourself', 'hard',
   'Introduce yourself to a new classmate: say hello, your name, where you are from, and that you are pleased to meet them.',
   'Hola, me llamo Sam. Soy de Canadá. Mucho gusto. (Soy de ... means I am from ...; mucho gusto means pleased to meet you.) The classmate may answer Igualmente (likewise), or Encantado if he is speaking, Encantada if she is.')
)
INSERT INTO subtopic_examples (subtopic_id, concept, difficulty, problem, solution)
SELECT s.id, v.concept, v.difficulty, v.problem, v.solution
FROM v JOIN subtopics s ON s.topic = v.topic AND s.name = v.name;
