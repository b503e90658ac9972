// The unit tier (*.unit.test.ts, see jest.config.js) maps fauxqs and playwright-core here.
'use strict';
throw new Error('fauxqs and playwright-core are not allowed in the unit tier (*.unit.test.ts); name the test file *.test.ts');
