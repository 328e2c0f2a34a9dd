import { describeDeliveryModel } from '../test-helpers/delivery-model.js';
import { tempStorePath } from './test-helpers/fixtures.js';

describeDeliveryModel({ name: 'sqlite', newLocation: async () => tempStorePath() }, 200);
